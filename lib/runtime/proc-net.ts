// The kernel's TCP socket table (/proc/net/tcp, /proc/net/tcp6): listeners by port and address.
import * as fs from 'node:fs';

/** An address of /proc/net/tcp(6): 32-bit words in host (little-endian) order. */
export function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  // ::ffff:a.b.c.d is the IPv4 address; anything else shown as hex groups (:: for all zeros).
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) return bytes.slice(12).join('.');
  if (bytes.every((b) => b === 0)) return '::';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/** Listening sockets on `port` in /proc/net/tcp(6) text: inode -> address. */
export function listenersOn(text: string, port: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue;
    const [addr, p] = f[1].split(':');
    if (parseInt(p, 16) === port) out.set(f[9], procAddress(addr));
  }
  return out;
}

/**
 * The listening section of /proc/net/tcp and tcp6 as text, header first (empty where missing:
 * not Linux, no IPv6): what listenersOn reads.
 */
export function socketTables(proc = '/proc'): string[] {
  return ['tcp', 'tcp6'].map((t) => {
    const rows: string[] = [];
    const file = `${proc}/net/${t}`;
    if (!forEachListenRow(file, (row) => rows.push(row))) return '';
    return [TABLE_HEADER, ...rows].join('\n');
  });
}

const TABLE_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const CHUNK = 64 * 1024;
/** A bound on one table read (~1.7M rows of 150 bytes); a table that long is cut, not read forever. */
const MAX_CHUNKS = 4096;
// The state column as it stands in a row: no other column is a lone pair of hex digits.
const LISTEN_STATE = Buffer.from(' 0A ');
const NL = 0x0a;
// sl: local remote st
const ROW_STATE = /^\s*\d+:\s+[0-9A-F]+:[0-9A-F]+\s+[0-9A-F]+:[0-9A-F]+\s+([0-9A-F]{2})\s/;

/**
 * Calls `each` with every row of a socket table in LISTEN state (` 0A `); false when it cannot be
 * read. The kernel writes the listening hash first, then the established one (tcp_get_idx in
 * net/ipv4/tcp_ipv4.c; before Linux 4.4 a listener's SYN_RECV requests follow it, state 03): the
 * read stops at the first chunk that ends past the listeners, so the tens of thousands of
 * TIME_WAIT rows of a busy host are never formatted by the kernel nor searched here. Reading them
 * all cost ~15 ms of CPU per read at 10,000 rows, several times in each boot.
 */
export function forEachListenRow(file: string, each: (row: string) => void): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  const buf = Buffer.allocUnsafe(CHUNK);
  let kept = 0; // bytes of an unfinished row carried over to the start of buf
  try {
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const n = fs.readSync(fd, buf, kept, CHUNK - kept, null);
      const end = kept + n;
      // Scan whole rows only and carry the unfinished one; a row longer than the buffer (none in
      // these tables) is scanned as it is.
      const whole = n === 0 ? end : buf.lastIndexOf(NL, end - 1) + 1 || (end < CHUNK ? 0 : end);
      // A view: indexOf must not search the stale bytes past what was read.
      const rows = buf.subarray(0, whole);
      rowsWithState(rows, each);
      if (n === 0 || pastListeners(rows)) break;
      buf.copy(buf, 0, whole, end);
      kept = end - whole;
    }
  } catch {
    // the table went away mid-read: what was read stands
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function rowsWithState(rows: Buffer, each: (row: string) => void): void {
  for (let at = rows.indexOf(LISTEN_STATE); at !== -1; at = rows.indexOf(LISTEN_STATE, at)) {
    const from = rows.lastIndexOf(NL, at) + 1;
    const nl = rows.indexOf(NL, at);
    const to = nl === -1 ? rows.length : nl;
    each(rows.toString('latin1', from, to));
    at = to;
  }
}

/** Whether the last whole row is in neither LISTEN nor SYN_RECV state: the established hash has begun. */
function pastListeners(rows: Buffer): boolean {
  const end = rows.length - 1; // the row's newline
  if (end <= 0) return false;
  const last = rows.toString('latin1', rows.lastIndexOf(NL, end - 1) + 1, end);
  const state = ROW_STATE.exec(last)?.[1];
  return state !== undefined && state !== '0A' && state !== '03';
}

export function isLoopbackAddress(a: string): boolean {
  return a.startsWith('127.') || a === '0:0:0:0:0:0:0:1';
}

import * as fs from 'node:fs';
import { forEachListenRow } from '../proc-net';

/** A listening TCP socket from the kernel's table. */
export interface ListeningSocket {
  /** Dotted IPv4, `::1`, `::`, or `v6:<hex>` for other IPv6 addresses. */
  readonly address: string;
  readonly port: number;
  readonly inode: string;
}

/** True where the kernel's socket tables can be read (Linux). */
export function canReadSocketTable(): boolean {
  return fs.existsSync('/proc/net/tcp');
}

/**
 * Every TCP socket in LISTEN state, from /proc/net/tcp and tcp6. On a busy host the table holds
 * tens of thousands of TIME_WAIT rows and readiness reads it every 100 ms: reading it whole grew
 * the helper's heap by ~40 MB for good, and turning every chunk into a string had V8 compile the
 * loop with TurboFan (+4 MB RSS). So the bytes are searched natively for the LISTEN state, only
 * those rows become strings, and the read ends with the listeners (proc-net.ts).
 */
export function listeningSockets(tables: readonly string[] = TABLES): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const file of tables) {
    forEachListenRow(file, (row) => {
      const m = LISTEN_ROW.exec(row);
      if (m) out.push({ address: decodeAddress(m[1]), port: parseInt(m[2], 16), inode: m[3] });
    });
  }
  return out;
}

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
// sl: local rem st(0A = LISTEN) tx:rx tr:when retrnsmt uid timeout inode
const LISTEN_ROW = /^\s*\d+:\s+([0-9A-F]+):([0-9A-F]+)\s+[0-9A-F]+:[0-9A-F]+\s+0A\s+(?:\S+\s+){5}(\d+)/;

function decodeAddress(hex: string): string {
  // IPv4 is one little-endian word (on the little-endian machines this runs on).
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  if (hex === '00000000000000000000000001000000') return '::1';
  if (/^0+$/.test(hex)) return '::';
  return `v6:${hex}`;
}

/** Socket inodes a process holds, or undefined when its fds cannot be read. */
export function socketInodes(pid: number): Set<string> | undefined {
  try {
    const out = new Set<string>();
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]);
      } catch {
        // fd closed meanwhile
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The listeners by port: a node with hundreds of peers has as many upstream listeners (and EPMD
 * listeners), and matching each target against the whole table made every check quadratic.
 */
function byPort(table: ListeningSocket[]): Map<number, ListeningSocket[]> {
  const out = new Map<number, ListeningSocket[]>();
  for (const l of table) {
    const same = out.get(l.port);
    if (same) same.push(l);
    else out.set(l.port, [l]);
  }
  return out;
}

/** Whether a listener covers a target: same port, and same address or a wildcard on either side. */
function covers(l: ListeningSocket, t: { address: string; port: number }): boolean {
  return l.port === t.port && (l.address === t.address || l.address === '0.0.0.0' || l.address === '::' || t.address === '0.0.0.0');
}

/** Each target's state in one reading of the socket table and of the pid's sockets. */
export interface ListenerStates {
  /** Bound (address:port, or the wildcard on that port), by `pid` when given. */
  readonly bound: boolean[];
  /** Bound only by other processes than `pid` (so `pid` cannot bind it); all false without `pid` or its sockets. */
  readonly heldByOthers: boolean[];
}

/**
 * Both answers from one reading: the table is read before the pid's sockets, so a listener the
 * pid binds between the two reads is in the table but not yet among its sockets, and is judged
 * on the next reading (never taken for another process's). One reading per readiness check: the
 * table of a node with a thousand peers lists thousands of listeners, and reading it is most of
 * a check's cost.
 */
export function listenerStates(targets: Array<{ address: string; port: number }>, pid?: number): ListenerStates {
  const onPort = byPort(listeningSockets());
  const owned = pid === undefined ? undefined : socketInodes(pid);
  const on = targets.map((t) => (onPort.get(t.port) ?? []).filter((l) => covers(l, t)));
  return {
    bound: on.map((ls) => ls.some((l) => !owned || owned.has(l.inode))),
    heldByOthers: on.map((ls) => owned !== undefined && ls.length > 0 && ls.every((l) => !owned.has(l.inode))),
  };
}

/**
 * Which of the targets have a listener bound (address:port, or the wildcard on that port), held by
 * `pid` when given: a listener of some other process on the port does not count.
 */
export function boundListeners(targets: Array<{ address: string; port: number }>, pid?: number): boolean[] {
  return listenerStates(targets, pid).bound;
}

/**
 * Which of the targets are held by some other process than `pid` (so `pid` cannot bind them);
 * all false when `pid`'s sockets cannot be read.
 */
export function heldByOthers(targets: Array<{ address: string; port: number }>, pid: number): boolean[] {
  return listenerStates(targets, pid).heldByOthers;
}

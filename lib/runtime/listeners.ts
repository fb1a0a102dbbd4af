import * as fs from 'node:fs';

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

/** Every TCP socket in LISTEN state, from /proc/net/tcp and tcp6. */
export function listeningSockets(): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const [hexIp, hexPort] = f[1].split(':');
      out.push({ address: decodeAddress(hexIp), port: parseInt(hexPort, 16), inode: f[9] });
    }
  }
  return out;
}

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

/** Whether a listener covers a target: same port, and same address or a wildcard on either side. */
function covers(l: ListeningSocket, t: { address: string; port: number }): boolean {
  return l.port === t.port && (l.address === t.address || l.address === '0.0.0.0' || l.address === '::' || t.address === '0.0.0.0');
}

/**
 * Which of the targets have a listener bound (address:port, or the wildcard on that port), held by
 * `pid` when given: a listener of some other process on the port does not count.
 */
export function boundListeners(targets: Array<{ address: string; port: number }>, pid?: number): boolean[] {
  const table = listeningSockets();
  const owned = pid === undefined ? undefined : socketInodes(pid);
  return targets.map((t) => table.some((l) => covers(l, t) && (!owned || owned.has(l.inode))));
}

/**
 * Which of the targets are held by some other process than `pid` (so `pid` cannot bind them);
 * all false when `pid`'s sockets cannot be read.
 */
export function heldByOthers(targets: Array<{ address: string; port: number }>, pid: number): boolean[] {
  // The table first, then the pid's sockets: a listener the proxy binds between the two reads
  // would otherwise be in the table but not yet among its sockets, and look foreign.
  const table = listeningSockets();
  const owned = socketInodes(pid);
  if (!owned) return targets.map(() => false);
  return targets.map((t) => {
    const on = table.filter((l) => covers(l, t));
    return on.length > 0 && on.every((l) => !owned.has(l.inode));
  });
}

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

/** The text of /proc/net/tcp and tcp6 (empty where missing: not Linux, no IPv6). */
export function socketTables(proc = '/proc'): string[] {
  return ['tcp', 'tcp6'].map((t) => {
    try {
      return fs.readFileSync(`${proc}/net/${t}`, 'utf8');
    } catch {
      return '';
    }
  });
}

export function isLoopbackAddress(a: string): boolean {
  return a.startsWith('127.') || a === '0:0:0:0:0:0:0:1';
}

// Probes run inside a host namespace: TCP dials to other hosts, the kernel's listening sockets,
// and raw bytes sent to a port. Each is bounded; they only ever reach the cluster's own subnet.
import { Cluster, ClusterHost } from './cluster';

export type DialResult = 'open' | 'refused' | 'timeout' | 'error';

const DIAL = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 2000 });
  s.once('connect', () => { s.destroy(); resolve('open'); });
  s.once('timeout', () => { s.destroy(); resolve('timeout'); });
  s.once('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'error'));
}))).then((r) => console.log(JSON.stringify(r)));`;

/** Dials each address:port from inside `from`; one answer per target. */
export function dialFrom(cluster: Cluster, from: ClusterHost, targets: Array<[string, number]>): DialResult[] {
  return JSON.parse(cluster.exec(from, [process.execPath, '-e', DIAL, JSON.stringify(targets)]));
}

const SEND = `
const net = require('net');
const [host, port, hex] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
let got = Buffer.alloc(0);
s.on('data', (d) => (got = Buffer.concat([got, d])));
s.on('error', () => undefined);
s.once('connect', () => s.write(Buffer.from(hex, 'hex')));
const done = (how) => { s.destroy(); console.log(JSON.stringify({ how, reply: got.toString('hex') })); process.exit(0); };
s.once('close', () => done('closed'));
setTimeout(() => done('open'), 3000);`;

/** Sends bytes to address:port from inside `from`; what came back, and whether the peer closed. */
export function sendFrom(cluster: Cluster, from: ClusterHost, host: string, port: number, bytes: Buffer): { how: 'closed' | 'open'; reply: Buffer } {
  const r = JSON.parse(cluster.exec(from, [process.execPath, '-e', SEND, host, String(port), bytes.toString('hex')]));
  return { how: r.how, reply: Buffer.from(r.reply, 'hex') };
}

/** Listening TCP sockets of a host (IPv4 and IPv6) as `address:port`, from /proc/net inside it. */
export function listeners(cluster: Cluster, host: ClusterHost): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of cluster.exec(host, ['cat', file]).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '0A') continue;
      const [hex, portHex] = f[1].split(':');
      out.push(`${decodeAddress(hex)}:${parseInt(portHex, 16)}`);
    }
  }
  return out;
}

/** /proc/net/tcp addresses: IPv4 as one little-endian word, IPv6 as four. */
function decodeAddress(hex: string): string {
  const bytes = (h: string) => Buffer.from(h, 'hex').reverse();
  if (hex.length === 8) return [...bytes(hex)].join('.');
  const words = [0, 8, 16, 24].map((i) => bytes(hex.slice(i, i + 8)));
  const b = Buffer.concat(words);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${[...b.subarray(12)].join('.')}`;
  return b.every((x) => x === 0) ? '::' : b.equals(Buffer.from([...Array(15).fill(0), 1])) ? '::1' : b.toString('hex');
}

/** True for loopback listener addresses (127/8, ::1, ::ffff:127.x). */
export function isLoopback(addr: string): boolean {
  return /^(127\.|::1:|::ffff:127\.)/.test(addr);
}

/** An Erlang distribution handshake's first message (send_name, 'N' format of OTP 23+), in clear. */
export function distSendName(node: string): Buffer {
  const name = Buffer.from(node);
  const body = Buffer.alloc(1 + 8 + 4 + 2 + name.length);
  body.write('N', 0);
  body.writeBigUInt64BE(0x1000000000dn | 0x3f7fdn, 1);
  body.writeUInt32BE(1, 9);
  body.writeUInt16BE(name.length, 13);
  name.copy(body, 15);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([len, body]);
}

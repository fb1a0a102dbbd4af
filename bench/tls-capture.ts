// The TLS version and cipher suite two peers actually negotiated, read off the wire: tcpdump on
// loopback while a connection is made, then the ServerHello of each TLS handshake in the capture.
// -Z root: tcpdump otherwise drops to its own user, which cannot write into our 0700 temp dir;
// --immediate-mode: else packets wait in the kernel ring for a block timeout and are lost at SIGINT.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SUITES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0xc02b: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  0xc02c: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  0xc02f: 'ECDHE-RSA-AES128-GCM-SHA256',
  0xc030: 'ECDHE-RSA-AES256-GCM-SHA384',
  0xcca8: 'ECDHE-RSA-CHACHA20-POLY1305',
  0xcca9: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
const VERSIONS: Record<number, string> = { 0x0304: 'TLS 1.3', 0x0303: 'TLS 1.2', 0x0302: 'TLS 1.1' };

export interface Negotiated {
  readonly serverPort: number;
  readonly version: string;
  readonly cipher: string;
}

/** ServerHello fields from one TCP payload, if it starts with one. */
function serverHello(p: Buffer): { version: number; suite: number } | undefined {
  if (p.length < 44 || p[0] !== 0x16 || p[5] !== 0x02) return undefined;
  let o = 9 + 2 + 32; // record header 5, handshake header 4, legacy_version 2, random 32
  o += 1 + p[o]; // session id
  const suite = p.readUInt16BE(o);
  o += 3; // suite, compression
  let version = p.readUInt16BE(9);
  const end = Math.min(p.length, o + 2 + p.readUInt16BE(o));
  for (o += 2; o + 4 <= end; o += 4 + p.readUInt16BE(o + 2)) {
    if (p.readUInt16BE(o) === 0x002b) version = p.readUInt16BE(o + 4); // supported_versions
  }
  return { version, suite };
}

/** Every ServerHello in a pcap file (Ethernet or Linux cooked link type, IPv4). */
export function parseServerHellos(pcap: Buffer): Negotiated[] {
  if (pcap.length < 24) return [];
  const le = pcap.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
  const linkHeader = u32(20) === 113 ? 16 : 14;
  const out: Negotiated[] = [];
  for (let o = 24; o + 16 <= pcap.length; ) {
    const len = u32(o + 8);
    const frame = pcap.subarray(o + 16, o + 16 + len);
    o += 16 + len;
    const ip = frame.subarray(linkHeader);
    if (ip.length < 20 || ip[0] >> 4 !== 4 || ip[9] !== 6) continue;
    const tcp = ip.subarray((ip[0] & 0x0f) * 4);
    const hello = serverHello(tcp.subarray((tcp[12] >> 4) * 4));
    if (hello)
      out.push({
        serverPort: tcp.readUInt16BE(0),
        version: VERSIONS[hello.version] ?? `0x${hello.version.toString(16)}`,
        cipher: SUITES[hello.suite] ?? `0x${hello.suite.toString(16)}`,
      });
  }
  return out;
}

/** Captures what a TLS server on a loopback port sends while `during` runs; returns its ServerHellos. */
export async function captureHandshakes(serverPort: number, during: () => Promise<unknown>): Promise<Negotiated[]> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bench-tls-')), 'cap.pcap');
  const dump: ChildProcess = spawn(
    'tcpdump',
    ['-Z', 'root', '--immediate-mode', '-i', 'lo', '-U', '-s', '4096', '-w', file, 'tcp', 'src', 'port', String(serverPort)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const started = new Promise<void>((resolve, reject) => {
    dump.on('error', (e) => reject(new Error(`tcpdump: ${e.message} (scripts/setup.sh installs it)`)));
    dump.stderr!.on('data', (d) => /listening on/.test(String(d)) && resolve());
    setTimeout(() => reject(new Error('tcpdump did not start within 10 s')), 10000).unref();
  });
  await started;
  try {
    await during();
    await new Promise((r) => setTimeout(r, 300)); // let -U flush the last packets
  } finally {
    dump.kill('SIGINT');
    await new Promise((r) => (dump.exitCode !== null ? r(null) : dump.once('exit', r)));
  }
  const hellos = parseServerHellos(fs.readFileSync(file));
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return hellos;
}

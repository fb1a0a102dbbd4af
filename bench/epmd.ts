// 4. EPMD: PORT_PLEASE2 lookups per second and p99 latency, our server vs the real epmd.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { decodePort2Response, encodeAlive2Request, encodePortPlease2Request } from '../lib/runtime/epmd/codec';
import { fmt, log, median, quantile, Section, startRealEpmd, table } from './lib';

const RUNS = 7;
const DIST_PORT = 41234;

function lookupOnce(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(encodePortPlease2Request('bench')));
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const r = decodePort2Response(Buffer.concat(chunks));
      if (r.info?.port !== DIST_PORT) reject(new Error(`bad answer ${JSON.stringify(r)}`));
      else resolve();
    });
  });
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function load(port: number, concurrency: number, total: number, pid: number): Promise<{ rate: number; p99: number; p50: number; cpuUs: number }> {
  const lat = new Float64Array(total);
  const cpu0 = cpuSeconds(pid);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      const s = process.hrtime.bigint();
      await lookupOnce(port);
      lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: total / secs, p99: quantile(lat, 0.99), p50: quantile(lat, 0.5), cpuUs: ((cpuSeconds(pid) - cpu0) * 1e6) / total };
}

/** Registers `bench` like a BEAM (the socket stays open). */
function register(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(encodeAlive2Request({ port: DIST_PORT, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'bench' })));
    s.once('data', () => resolve(s));
    s.on('error', reject);
  });
}

async function startOurs(): Promise<{ port: number; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [path.join(__dirname, 'epmd-server-proc.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => proc.stdout!.on('data', (d) => { const m = String(d).match(/ready (\d+)/); if (m) resolve(Number(m[1])); }));
  return { port, proc };
}

export async function epmdBench(): Promise<Section> {
  const real = await startRealEpmd();
  const ours = await startOurs();
  const regs = [await register(real.port), await register(ours.port)];
  const rows: Array<Array<string | number>> = [];
  const goals: Section['goals'] = [];
  try {
    for (const [concurrency, total] of [[1, 4000], [100, 20000]]) {
      const r: Array<{ rate: number; p99: number; p50: number; cpuUs: number }> = [];
      const o: typeof r = [];
      await load(real.port, concurrency, 500, real.proc.pid!);
      await load(ours.port, concurrency, 500, ours.proc.pid!);
      for (let i = 0; i < RUNS; i++) {
        r.push(await load(real.port, concurrency, total, real.proc.pid!));
        o.push(await load(ours.port, concurrency, total, ours.proc.pid!));
      }
      const rr = median(r.map((x) => x.rate));
      const or = median(o.map((x) => x.rate));
      const rp = median(r.map((x) => x.p99));
      const op = median(o.map((x) => x.p99));
      rows.push([concurrency, fmt(rr), fmt(or), fmt(or / rr, 2), fmt(median(r.map((x) => x.p50)), 2), fmt(median(o.map((x) => x.p50)), 2), fmt(rp, 2), fmt(op, 2), fmt(op / rp, 2), fmt(median(r.map((x) => x.cpuUs))), fmt(median(o.map((x) => x.cpuUs)))]);
      goals.push({ goal: `EPMD lookups/s >= epmd's (${concurrency} client${concurrency > 1 ? 's' : ''})`, met: or >= rr, value: `${fmt(or / rr, 2)}x` });
      goals.push({ goal: `EPMD p99 <= 2x epmd's (${concurrency} client${concurrency > 1 ? 's' : ''})`, met: op <= 2 * rp, value: `${fmt(op / rp, 2)}x` });
      log(`epmd ${concurrency} clients: ours ${fmt(or)}/s vs epmd ${fmt(rr)}/s`);
    }
  } finally {
    for (const s of regs) s.destroy();
    real.stop();
    ours.proc.kill('SIGKILL');
  }
  return {
    title: '4. EPMD server: PORT_PLEASE2 lookups',
    markdown: [
      `Each lookup is a new TCP connection (as a BEAM does it): connect, PORT_PLEASE2 for a registered name, read the answer until the server closes. One load generator (Node) for both servers; each server in its own process; median of ${RUNS} interleaved runs (4,000 lookups with 1 client, 20,000 with 100). Latencies in ms.`,
      '',
      table(['clients', 'epmd lookups/s', 'meshx-node lookups/s', 'ratio', 'epmd p50', 'meshx-node p50', 'epmd p99', 'meshx-node p99', 'p99 ratio', 'epmd CPU µs/lookup', 'meshx-node CPU µs/lookup'], rows),
      '',
      "What limits ours: the CPU columns (server process time per lookup, from /proc). A profile of our server under 100 clients shows it idle most of the time and, when busy, inside Node's per-connection socket setup and teardown (net.Socket and stream state construction, close) rather than in the EPMD code; the one avoidable syscall per connection (getsockname) is gone. With 100 clients the single Node load generator and the 2 shared vCPUs bound both servers. A BEAM asks once per new distribution connection, not per message, so thousands of lookups per second is far above any node's need; the p99 goal is what a booting cluster feels.",
    ].join('\n'),
    goals,
  };
}

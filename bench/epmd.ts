// 7. EPMD: PORT_PLEASE2 lookups per second and p99 latency, answered by the EPMD server inside a
// real running `meshx-node run` helper (a peer lookup, routed to the sidecar upstream) vs the real
// epmd daemon; the load comes from several processes.
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { encodeAlive2Request } from '../lib/runtime/epmd/codec';
import { startMesh } from './fixtures';
import { cpuNanos, fmt, fmtCi, goalAtLeast, goalAtMost, median, Progress, quantile, rounds, Section, shuffled, startRealEpmd, table } from './lib';
import { bootstrap, ratioCi } from './stats';
import { prose } from './results';

const ROUNDS = rounds(7);
const LOADS = [
  { label: '1 process, 1 in flight', processes: 1, inFlight: 1, perProcess: 3000 },
  { label: '4 processes, 25 in flight each', processes: 4, inFlight: 25, perProcess: 5000 },
];
const COOKIE = 'bench-' + Math.random().toString(36).slice(2);

interface Round { rate: number; p50: number; p99: number; cpuUsPerLookup: number }

/** `processes` load generators at once; lookups/s over the slowest one, latencies pooled. */
async function load(address: string, port: number, pid: number, l: (typeof LOADS)[number]): Promise<Round> {
  const cpu0 = cpuNanos(pid);
  const one = () => new Promise<{ total: number; secs: number; lat: number[] }>((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [path.join(__dirname, 'epmd-load.js'), address, String(port), 'orders', String(l.perProcess), String(l.inFlight)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`epmd load exited ${code}`))));
  });
  const rs = await Promise.all(Array.from({ length: l.processes }, one));
  const lat = rs.flatMap((r) => r.lat);
  const total = rs.reduce((a, r) => a + r.total, 0);
  return {
    rate: total / Math.max(...rs.map((r) => r.secs)),
    p50: quantile(lat, 0.5),
    p99: quantile(lat, 0.99),
    cpuUsPerLookup: (cpuNanos(pid) - cpu0) / 1000 / total,
  };
}

/** Registers `orders` with the real epmd like a BEAM does (the socket stays open). */
function register(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () =>
      s.write(encodeAlive2Request({ port: 41234, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'orders' })),
    );
    s.once('data', () => resolve(s));
    s.on('error', reject);
  });
}

export async function epmdBench(): Promise<Section> {
  const real = await startRealEpmd();
  let mesh: Awaited<ReturnType<typeof startMesh>>;
  let reg: net.Socket;
  try {
    mesh = await startMesh(COOKIE, ['billing@billing-1.shop.test']);
    reg = await register(real.port).catch(async (e) => {
      await mesh.stop(); // a failed setup leaves nothing running
      throw e;
    });
  } catch (e) {
    real.stop();
    throw e;
  }
  const helper = mesh.nodes[0];
  // The helper names its EPMD transport in its log: `epmd :PORT on ADDRESSES (TRANSPORT)`.
  const transport = /epmd :\d+ on [^(\n]*\(([^)]+)\)/.exec(helper.node.output)?.[1] ?? 'unknown';
  const route = helper.state.upstreams.find((u) => u.node.startsWith('orders@'))!;
  const targets = {
    epmd: { address: '127.0.0.1', port: real.port, pid: real.proc.pid! },
    helper: { address: route.address, port: helper.state.epmdPort, pid: helper.pids.helper },
  };
  const got = LOADS.map(() => ({ epmd: [] as Round[], helper: [] as Round[] }));
  const progress = new Progress('epmd', ROUNDS * LOADS.length);
  try {
    for (const [i, l] of LOADS.entries()) {
      for (const t of Object.values(targets)) await load(t.address, t.port, t.pid, { ...l, perProcess: 300 }); // warm-up
      for (let r = 0; r < ROUNDS; r++) {
        for (const k of shuffled(['epmd', 'helper'] as const)) got[i][k].push(await load(targets[k].address, targets[k].port, targets[k].pid, l));
        progress.tick(`${l.label}: helper ${fmt(got[i].helper[r].rate)}/s, epmd ${fmt(got[i].epmd[r].rate)}/s`);
      }
    }
  } finally {
    reg.destroy();
    real.stop();
    await mesh.stop();
  }
  return render(got, transport);
}

function render(got: Array<{ epmd: Round[]; helper: Round[] }>, transport: string): Section {
  const rows: Array<Array<string | number>> = [];
  const goals: Section['goals'] = [];
  for (const [i, l] of LOADS.entries()) {
    const [e, h] = [got[i].epmd, got[i].helper];
    const rate = ratioCi(h.map((x) => x.rate), e.map((x) => x.rate));
    const p99 = ratioCi(h.map((x) => x.p99), e.map((x) => x.p99));
    const m = (xs: Round[], k: keyof Round, d = 0) => fmt(median(xs.map((x) => x[k])), d);
    rows.push([
      l.label,
      m(e, 'rate'),
      m(h, 'rate'),
      fmtCi(rate),
      m(e, 'p50', 2),
      m(h, 'p50', 2),
      m(e, 'p99', 2),
      m(h, 'p99', 2),
      fmtCi(p99),
      m(e, 'cpuUsPerLookup'),
      m(h, 'cpuUsPerLookup'),
    ]);
    goals.push(goalAtLeast(`EPMD lookups/s >= epmd's (${l.label})`, rate, 1));
    goals.push(goalAtMost(`EPMD p99 <= 2x epmd's (${l.label})`, p99, 2));
  }
  const cpu = bootstrap([got[1].helper.map((x) => x.cpuUsPerLookup)], (a) => median(a));
  return {
    title: '7. EPMD: PORT_PLEASE2 lookups answered by the running helper',
    markdown: [
      prose.epmd.method(transport, ROUNDS, fmtCi(cpu, 0)),
      '',
      table(
        [
          'load', 'epmd lookups/s', 'helper lookups/s', 'ratio', 'epmd p50', 'helper p50', 'epmd p99', 'helper p99', 'p99 ratio',
          'epmd CPU µs', 'helper CPU µs', ], rows, ), '', prose.epmd.reading,
    ].join('\n'),
    goals,
    samples: got,
  };
}

// 5. Footprint per node: RSS and CPU of the helper beside its proxy and its BEAM, at idle and
// while several processes send EPMD lookups to the helper; an empty Node.js process as the floor.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { emptyNode, MeshFixture, startMesh } from './fixtures';
import { cpuNanos, fmt, fmtCi, goalAtMost, log, Progress, rounds, rssMb, Section, table } from './lib';
import { durationMs } from '../lib/manifest/rules';
import { refreshInterval } from '../lib/runtime/steps/health-step';
import { meanCi, medianCi } from './stats';
import { prose } from './results';

const COOKIE = 'bench-' + Math.random().toString(36).slice(2);
const SETTLE_MS = 10000;
const WINDOWS = rounds(6);
const IDLE_WINDOWS = rounds(4);
const LOADERS = 4;
const LOOKUPS = 5000;

type Kind = 'helper' | 'proxy' | 'beam' | 'empty node' | 'timer node';
interface Series { rss: number[]; anon: number[]; cpuPct: number[] }
const KINDS: Kind[] = ['helper', 'proxy', 'beam', 'empty node', 'timer node'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One window: CPU % of each process over it, and RSS at its end. */
async function window(pids: Array<[Kind, number]>, into: Record<Kind, Series>, during: Promise<unknown>): Promise<void> {
  const c0 = pids.map(([, p]) => cpuNanos(p));
  const t0 = process.hrtime.bigint();
  await during;
  const wall = Number(process.hrtime.bigint() - t0);
  pids.forEach(([k, p], i) => {
    into[k].cpuPct.push(((cpuNanos(p) - c0[i]) / wall) * 100);
    into[k].rss.push(rssMb(p));
    into[k].anon.push(rssMb(p, 'RssAnon'));
  });
}

/** LOADERS processes, each LOOKUPS lookups of the peer `orders` on the helper's EPMD port. */
function epmdLoad(address: string, port: number): Promise<void> {
  const one = () => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'epmd-load.js'), address, String(port), 'orders', String(LOOKUPS), '25'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`epmd load exited ${code}`))));
  });
  return Promise.all(Array.from({ length: LOADERS }, one)).then(() => undefined);
}

const empty = (): Record<Kind, Series> =>
  Object.fromEntries(KINDS.map((k) => [k, { rss: [], anon: [], cpuPct: [] }])) as unknown as Record<Kind, Series>;

async function measure(
  mesh: MeshFixture,
  floor: number,
  timer: number,
  wakeMs: number,
): Promise<{ idle: Record<Kind, Series>; load: Record<Kind, Series> }> {
  const idle = empty();
  const load = empty();
  const progress = new Progress('footprint', IDLE_WINDOWS + WINDOWS);
  const billing = mesh.nodes[0];
  const pids: Array<[Kind, number]> = [
    ['helper', billing.pids.helper],
    ['proxy', billing.pids.proxy],
    ['beam', billing.pids.beam],
    ['empty node', floor],
    ['timer node', timer],
  ];
  const route = billing.state.upstreams.find((u) => u.node.startsWith('orders@'))!;
  for (let i = 0; i < IDLE_WINDOWS; i++) {
    await window(pids, idle, sleep(wakeMs));
    progress.tick(`idle: helper ${fmt(idle.helper.rss[i])} MB, ${fmt(idle.helper.cpuPct[i], 3)}% CPU`);
  }
  for (let i = 0; i < WINDOWS; i++) {
    await window(pids, load, epmdLoad(route.address, billing.state.epmdPort));
    progress.tick(`EPMD load: helper ${fmt(load.helper.rss[i])} MB, ${fmt(load.helper.cpuPct[i], 1)}% CPU`);
  }
  return { idle, load };
}

/** How often the idle helper wakes: once per TTL refresh, when its blocking query on the agent returns. */
async function helperWakeMs(mesh: MeshFixture): Promise<{ ttl: string; wakeMs: number }> {
  const manifest = JSON.parse((await mesh.agent.api.kvGet('meshx/shop/nodes/shop-billing'))!);
  const ttl: string = manifest.service.ttl;
  return { ttl, wakeMs: refreshInterval(durationMs(ttl)) };
}

export async function footprintBench(): Promise<Section> {
  const mesh = await startMesh(COOKIE, ['billing@billing-1.shop.test']);
  const { ttl, wakeMs } = await helperWakeMs(mesh).catch(async (e) => {
    await mesh.stop();
    throw e;
  });
  const floor = emptyNode();
  const timer = emptyNode(wakeMs);
  let got: Awaited<ReturnType<typeof measure>>;
  try {
    log(`footprint: settling ${SETTLE_MS / 1000} s after boot; idle windows of ${wakeMs / 1000} s (the helper's wake interval)`);
    await sleep(SETTLE_MS);
    got = await measure(mesh, floor.pid, timer.pid, wakeMs);
  } finally {
    floor.stop();
    timer.stop();
    await mesh.stop();
  }
  const rows = KINDS.map((k) => [
    k,
    fmtCi(medianCi(got.idle[k].rss), 1),
    fmtCi(medianCi(got.idle[k].anon), 1),
    fmtCi(meanCi(got.idle[k].cpuPct), 3),
    fmtCi(medianCi(got.load[k].rss), 1),
    fmtCi(medianCi(got.load[k].cpuPct), 1),
  ]);
  const rss = medianCi(got.idle.helper.rss);
  const cpu = meanCi(got.idle.helper.cpuPct);
  return {
    title: '5. Footprint per node',
    markdown: [
      prose.footprint.method({
        settleS: SETTLE_MS / 1000,
        idleWindows: IDLE_WINDOWS,
        wakeS: wakeMs / 1000,
        ttl,
        windows: WINDOWS,
        loaders: LOADERS,
        lookups: fmt(LOOKUPS),
      }),
      '',
      table(['process', 'idle RSS (MB)', 'of which anonymous (MB)', 'idle CPU (%)', 'RSS under EPMD load (MB)', 'CPU under EPMD load (%)'], rows),
    ].join('\n'),
    goals: [goalAtMost('helper RSS <= 50 MB at steady state', rss, 50, 1, ' MB'), goalAtMost('helper idle CPU <= 0.1%', cpu, 0.1, 3, '%')],
    samples: got,
  };
}

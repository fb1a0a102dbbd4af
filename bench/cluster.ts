// Cluster formation on a production-shaped cluster (support/cluster): 3 hosts x 4 nodes, full
// mesh, all helpers started at once, ms until every pair pongs; against the same 12 nodes as
// plain `erl -name` with one real EPMD per host (namespace) and inet_tcp_dist. Runs interleaved.
// Run alone: `npx ts-node --transpile-only --project tsconfig.dev.json bench/cluster.ts [runs]`.
import { ChildProcess } from 'node:child_process';
import { spawnTied, stopChild } from '../lib/runtime/child';
import { Cluster } from '../support/cluster/cluster';
import { startMeshCluster } from '../support/cluster';
import { inNs } from '../support/cluster/netns';
import { MeshNode } from '../support/mesh-node';
import { shuffled } from './lib';

const HOSTS = 3;
const PER_HOST = 4;

/** Every node pings every other one (a node's pings in sequence, nodes in parallel) until pong. */
async function allPairsPong(nodes: MeshNode[], names: string[]): Promise<void> {
  await Promise.all(nodes.map(async (a) => {
    for (const b of names.filter((n) => n !== a.name)) {
      const got = await a.pingUntil(b, 'pong', 60_000);
      if (got !== 'pong') throw new Error(`${a.name} -> ${b}: ${got}`);
    }
  }));
}

async function meshSample(mc: Awaited<ReturnType<typeof startMeshCluster>>, cookie: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const nodes = await mc.boot(cookie);
  try {
    await allPairsPong(nodes, nodes.map((n) => n.name));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    await mc.stopNodes(nodes);
  }
}

/** One real EPMD per host, in the foreground (so it is stopped by pid, not left daemonized). */
function startEpmds(cluster: Cluster): ChildProcess[] {
  return cluster.hosts.map((h) => spawnTied([...inNs(h.link.ns), 'epmd'], { stdio: 'ignore' }));
}

async function plainSample(cluster: Cluster, cookie: string): Promise<number> {
  const names = cluster.hosts.flatMap((h) => Array.from({ length: PER_HOST }, (_, k) => `p${k + 1}@${h.link.address}`));
  const t0 = process.hrtime.bigint();
  const nodes = names.map((name, i) => MeshNode.plain(name, ['-name', name, '-setcookie', cookie, '-start_epmd', 'false'], process.env, inNs(cluster.hosts[Math.floor(i / PER_HOST)].link.ns)));
  try {
    await allPairsPong(nodes, names);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  }
}

/**
 * `runs` rounds, mesh and plain in a random order in each: ms from starting all 12 helpers (mesh) or all 12 plain
 * `erl` (plain) to every ordered pair answering pong. One cluster and one deploy for all runs.
 */
export async function clusterFormationSamples(runs: number, onRound?: (mesh: number, plain: number) => void): Promise<{ mesh: number[]; plain: number[] }> {
  const cookie = 'bench-' + Math.random().toString(36).slice(2);
  const mc = await startMeshCluster(HOSTS, PER_HOST);
  const epmds = startEpmds(mc.cluster);
  const out = { mesh: [] as number[], plain: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const k of shuffled(['mesh', 'plain'] as const)) out[k].push(k === 'mesh' ? await meshSample(mc, cookie) : await plainSample(mc.cluster, cookie));
      onRound?.(out.mesh[i], out.plain[i]);
    }
  } finally {
    await Promise.all(epmds.map((e) => stopChild(e, 2000)));
    await mc.stop();
  }
  return out;
}

if (require.main === module) {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  clusterFormationSamples(Number(process.argv[2] ?? 5)).then((s) => {
    console.log(JSON.stringify(s));
    console.log(`mesh median ${median(s.mesh).toFixed(0)} ms, plain median ${median(s.plain).toFixed(0)} ms (${s.mesh.length} runs each)`);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}

// Cluster formation on a production-shaped cluster (support/cluster): 3 hosts x 4 nodes, full
// mesh, all helpers started at once, ms until every pair pongs; against the same 12 nodes as
// plain `erl -name` with one real EPMD per host (namespace) and inet_tcp_dist. Runs interleaved.
// Run alone: `npx ts-node --transpile-only --project tsconfig.dev.json bench/cluster.ts [runs]`.
import { ChildProcess } from 'node:child_process';
import { spawnTied, stopChild } from '../lib/runtime/child';
import { Cluster } from '../support/cluster/cluster';
import { MeshCluster, startMeshCluster } from '../support/cluster';
import { inNs } from '../support/cluster/netns';
import { MeshNode } from '../support/mesh-node';
import { shuffled } from './lib';

const HOSTS = 3;
const PER_HOST = 4;

/**
 * Erlang for one node: pings every peer at once, each until pong (50 ms between tries, bounded by
 * a deadline); returns the list of answers. No disconnect between tries: the question is when the
 * pair is connected, whoever dialled first.
 */
function pingAllExpr(peers: string[], deadlineMs: number): string {
  const list = peers.map((p) => `'${p}'`).join(',');
  return [
    `Self = self(), Until = erlang:monotonic_time(millisecond) + ${deadlineMs}`,
    'Try = fun T(P) -> case net_adm:ping(P) of pong -> pong; ' +
      'pang -> case erlang:monotonic_time(millisecond) > Until of true -> pang; false -> timer:sleep(50), T(P) end end end',
    `[spawn(fun() -> Self ! {P, Try(P)} end) || P <- [${list}]]`,
    `[receive {P, R} -> R end || P <- [${list}]]`,
  ].join(', ');
}

/** One node pings all its peers at once until each pongs. */
export async function pingAll(a: MeshNode, names: string[]): Promise<void> {
  const peers = names.filter((n) => n !== a.name);
  const got = await a.eval(pingAllExpr(peers, 60_000), 70_000);
  const answers = got.replace(/[[\]\s]/g, '').split(',');
  const failed = peers.filter((_, i) => answers[i] !== 'pong');
  if (answers.length !== peers.length || failed.length) throw new Error(`${a.name}: no pong from ${failed.join(', ') || got}`);
}

/** Waits for all; the first failure is thrown only once every one has settled (nothing left running untracked). */
export async function settleAll(work: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** ms from t0 to now. */
const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/**
 * One mesh sample: all 12 helpers started at once; each node pings all its peers as soon as its
 * own health check passes. Returns ms to the last pong and to the last helper's health passing.
 */
async function meshSample(mc: MeshCluster, cookie: string): Promise<{ total: number; booted: number }> {
  const names = mc.nodes.map((n) => n.node);
  const booted: MeshNode[] = [];
  let lastHealthy = 0;
  const t0 = process.hrtime.bigint();
  try {
    await settleAll(mc.nodes.map(async (n) => {
      const node = await mc.cluster.bootNode(mc.cluster.hosts[n.host - 1], { kv: n.kv, node: n.node, tokenFile: n.tokenFile, cookie });
      booted.push(node);
      lastHealthy = Math.max(lastHealthy, since(t0));
      await pingAll(node, names);
    }));
    return { total: since(t0), booted: lastHealthy };
  } finally {
    await mc.stopNodes(booted);
  }
}

/** One real EPMD per host, in the foreground (so it is stopped by pid, not left daemonized). */
export function startEpmds(cluster: Cluster): ChildProcess[] {
  return cluster.hosts.map((h) => spawnTied([...inNs(h.link.ns), 'epmd'], { stdio: 'ignore' }));
}

async function plainSample(cluster: Cluster, cookie: string): Promise<number> {
  const names = cluster.hosts.flatMap((h) => Array.from({ length: PER_HOST }, (_, k) => `p${k + 1}@${h.link.address}`));
  const t0 = process.hrtime.bigint();
  const nodes = names.map((name, i) =>
    MeshNode.plain(
      name,
      ['-name', name, '-setcookie', cookie, '-start_epmd', 'false'],
      process.env,
      inNs(cluster.hosts[Math.floor(i / PER_HOST)].link.ns),
    ),
  );
  try {
    await settleAll(nodes.map((n) => pingAll(n, names)));
    return since(t0);
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  }
}

/**
 * `runs` rounds, mesh and plain in a random order in each: ms from starting all 12 helpers (mesh) or all 12 plain
 * `erl` (plain) to every ordered pair answering pong. One cluster and one deploy for all runs.
 */
export async function clusterFormationSamples(
  runs: number,
  onRound?: (mesh: number, plain: number) => void,
): Promise<{ mesh: number[]; meshBooted: number[]; plain: number[] }> {
  const cookie = 'bench-' + Math.random().toString(36).slice(2);
  const mc = await startMeshCluster(HOSTS, PER_HOST);
  const epmds = startEpmds(mc.cluster);
  const out = { mesh: [] as number[], meshBooted: [] as number[], plain: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const k of shuffled(['mesh', 'plain'] as const)) {
        if (k === 'plain') out.plain.push(await plainSample(mc.cluster, cookie));
        else {
          const m = await meshSample(mc, cookie);
          out.mesh.push(m.total);
          out.meshBooted.push(m.booted);
        }
      }
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
    const mesh = `${median(s.mesh).toFixed(0)} ms (last helper healthy ${median(s.meshBooted).toFixed(0)} ms)`;
    console.log(`mesh median ${mesh}, plain median ${median(s.plain).toFixed(0)} ms (${s.mesh.length} runs each)`);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}

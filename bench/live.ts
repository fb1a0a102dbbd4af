// Live topology: ms from the KV write of the changed manifests (as a deploy writes them) to
// the first pong on an edge that did not exist, between two nodes that keep running. Real
// Consul dev agent, real helpers, built-in proxies and BEAMs; everything stopped after each run.
//
//   npx ts-node --transpile-only --project tsconfig.dev.json bench/live.ts [runs]
//
// MESHX_BENCH_DEBUG=1 also prints, per run, when the helper logged 'applied' and when the BEAM
// first resolved the new host. The peer host is new to the dialling BEAM: it resolves through
// the helper's loopback DNS responder as soon as the helper applied the version (the hosts file
// alone would take inet_db's 5 to 6 s check).
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { keyOf, publishVersion, serviceOfNode, synthLiveVersion } from '../support/live-mesh';
import { MeshNode } from '../support/mesh-node';

const COOKIE = 'bench-live-' + Math.random().toString(36).slice(2);
const A = 'a@a-1.bench.test';
const B = 'b@b-1.bench.test';
const C = 'c@c-1.bench.test';

/** Pings inside the BEAM every 10 ms (bounded: 60 s) and answers the OS time of the first pong. */
const pongAt = (peer: string) =>
  `(fun Loop(N) -> case net_adm:ping(list_to_atom("${peer}")) of pong -> erlang:system_time(millisecond); ` +
  'pang when N < 6000 -> timer:sleep(10), Loop(N + 1); pang -> timeout end end)(0)';
/** The OS time at which the BEAM first resolves `host` (diagnostics). */
const resolvedAt = (host: string) =>
  `(fun Loop(N) -> case inet:getaddr("${host}", inet) of {ok, _} -> erlang:system_time(millisecond); ` +
  '_ when N < 6000 -> timer:sleep(10), Loop(N + 1); _ -> timeout end end)(0)';

/** One run: a-c and b-c connected; the deploy adds a-b; the time until a's first pong from b. */
async function oneRun(agent: DevAgent, run: number): Promise<{ pong: number; applied: number }> {
  const mesh = `bench${run}`;
  const v1 = synthLiveVersion(mesh, { nodes: [A, B, C], edges: [[A, C], [B, C]] });
  const v2 = synthLiveVersion(mesh, { nodes: [A, B, C], edges: [[A, C], [B, C], [A, B]] });
  await publishVersion(agent.api, v1);
  const nodes: MeshNode[] = [];
  try {
    for (const node of [A, B, C])
      nodes.push(
        await MeshNode.start({ kv: keyOf(v1, node), node, consulAddr: agent.httpAddr, cookie: COOKIE, beamArgs: ['-connect_all', 'false'] }),
      );
    await waitDiscoverable(agent.api, [A, B, C].map((n) => serviceOfNode(v1, n)));
    if ((await nodes[0].ping(C)) !== 'pong') throw new Error('v1: a cannot reach c');
    const mark = nodes[0].output.length;
    const applied = nodes[0].waitForLog(/manifest version \d+ applied/, 90_000).then(() => Date.now());
    const t0 = await publishVersion(agent.api, v2, v1);
    const resolved = process.env.MESHX_BENCH_DEBUG ? Number(await nodes[0].eval(resolvedAt(B.split('@')[1]), 90_000)) : 0;
    const at = await nodes[0].eval(pongAt(B), 90_000);
    if (process.env.MESHX_BENCH_DEBUG)
      console.error(
        `run ${run}: applied after ${(await applied) - t0} ms, resolved after ${resolved - t0} ms, pong after ${Number(at) - t0} ms; ${nodes[0].output
          .slice(mark)
          .split('\n')
          .filter((l) => /helper|proxy/.test(l))
          .join(' | ')}`,
      );
    if (!/^\d+$/.test(at)) throw new Error(`no pong on the new edge within 60 s: ${at}`);
    return { pong: Number(at) - t0, applied: (await applied) - t0 };
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
  }
}

/** `runs` samples, in ms from the KV write: to the helper's 'applied' line, and to the first pong on the new edge. */
export async function liveTopologyRuns(
  runs: number,
  onRun?: (pong: number, applied: number) => void,
): Promise<{ pong: number[]; applied: number[] }> {
  const agent = await DevAgent.start();
  const out = { pong: [] as number[], applied: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      const r = await oneRun(agent, i);
      out.pong.push(r.pong);
      out.applied.push(r.applied);
      onRun?.(r.pong, r.applied);
    }
  } finally {
    await agent.stop();
  }
  return out;
}

/** `runs` samples, in ms, from the KV write to the first pong on the new edge. */
export async function liveTopologySamples(runs: number): Promise<number[]> {
  return (await liveTopologyRuns(runs)).pong;
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 5);
  liveTopologySamples(runs).then(
    (s) => {
      const sorted = [...s].sort((x, y) => x - y);
      const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
      const spread = `median ${median} ms, min ${sorted[0]} ms, max ${sorted[sorted.length - 1]} ms`;
      console.log(`live topology, KV write to first pong on a new edge (n=${s.length}): ${spread}; samples ${s.join(', ')}`);
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}

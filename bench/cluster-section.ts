// 3. Cluster formation across hosts (bench/cluster.ts on the netns cluster of support/cluster).
import { clusterFormationSamples } from './cluster';
import { fmt, fmtCi, goalAtMost, Progress, rounds, Section, table } from './lib';
import { medianCi, ratioCi } from './stats';

const ROUNDS = rounds(7);

export async function clusterBench(): Promise<Section> {
  const progress = new Progress('cluster', ROUNDS);
  const got = await clusterFormationSamples(ROUNDS, (m, p) => progress.tick(`mesh ${fmt(m)} ms, plain ${fmt(p)} ms`));
  const mesh = medianCi(got.mesh);
  return {
    title: '3. Cluster formation across hosts',
    markdown: [
      `The production-shaped cluster of the test suite (support/cluster: 3 hosts as network namespaces on one bridge, one Consul 1.14.11 server and a client agent per host with ACLs default deny, gossip encryption, TLS RPC, HTTPS-only API with verify_incoming), the cluster stack deployed once through terraform. Each sample: 3 hosts × 4 nodes in a full mesh, all 12 \`meshx-node run\` helpers started at once with their own tokens and \`--kv\`, until every ordered pair has answered pong (each node pings its 11 peers in turn with a fresh connection per try, 200 ms between tries). Plain: the same 12 names as \`erl -name\` with one real epmd per host and inet_tcp_dist. ${ROUNDS} rounds, the two in a random order in each. ms, medians with 95% bootstrap intervals.`,
      '',
      table(['path', 'all 132 pairs pong (ms)', 'ratio to plain'], [['plain erl -name, epmd per host', fmtCi(medianCi(got.plain), 0), ''], ['meshx-node run, built-in proxies', fmtCi(mesh, 0), fmtCi(ratioCi(got.mesh, got.plain))]]),
      '',
      "Where the mesh's time goes: each helper boots (register, proxy, BEAM) while 11 others on 3 hosts do the same on 2 shared vCPUs; then each new sidecar has to reach the other proxies' upstream lists through the servers' catalog (blocking queries) before the first connection to it succeeds.",
    ].join('\n'),
    goals: [goalAtMost('cluster formation, 3 hosts x 4 nodes, full mesh <= 5 s', mesh, 5000, 0, ' ms')],
    samples: got,
  };
}

// 3. Cluster formation across hosts (bench/cluster.ts on the netns cluster of support/cluster).
import * as os from 'node:os';
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
      `The production-shaped cluster of the test suite (support/cluster: 3 hosts as network namespaces on one bridge, one Consul 1.14.11 server and a client agent per host with ACLs default deny, gossip encryption, TLS RPC, HTTPS-only API with verify_incoming), the cluster stack deployed once through terraform. Each sample: 3 hosts × 4 nodes in a full mesh, all 12 \`meshx-node run\` helpers started at once with their own tokens and \`--kv\`, until every ordered pair has answered pong (each node pings its 11 peers at once as soon as its own helper reports its health check passing, each peer until pong, 50 ms between tries). Plain: the same 12 names as \`erl -name\` with one real epmd per host and inet_tcp_dist. ${ROUNDS} rounds, the two in a random order in each. ms, medians with 95% bootstrap intervals.`,
      '',
      table(
        ['path', 'all 132 pairs pong (ms)', 'ratio to plain'],
        [
          ['plain erl -name, epmd per host', fmtCi(medianCi(got.plain), 0), ''],
          ['meshx-node run, built-in proxies', fmtCi(mesh, 0), fmtCi(ratioCi(got.mesh, got.plain))],
        ],
      ),
      '',
      `Where the mesh's time goes: ${fmtCi(medianCi(got.meshBooted), 0)} ms until the last of the 12 helpers reported its health check passing (each helper boots: register, proxy, BEAM, while 11 others on the 3 hosts do the same on ${os.cpus().length} shared vCPUs; the 12 helpers, proxies and BEAMs all start at once, so this phase is CPU-bound), then the pings until the last pair answers (each new sidecar has to reach the other proxies' upstream lists through the servers' catalog before the first connection to it succeeds).`,
    ].join('\n'),
    goals: [goalAtMost('cluster formation, 3 hosts x 4 nodes, full mesh <= 5 s', mesh, 5000, 0, ' ms')],
    samples: got,
  };
}

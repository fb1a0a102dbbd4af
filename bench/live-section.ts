// 4. Live topology: from a manifest change (a deploy's KV write) to the first pong on a new edge
// between two running nodes (bench/live.ts).
import { fmt, fmtCi, goalAtMost, Progress, rounds, Section, table } from './lib';
import { liveTopologyRuns } from './live';
import { medianCi } from './stats';

const RUNS = rounds(9);

export async function liveBench(): Promise<Section> {
  const progress = new Progress('live', RUNS);
  const got = await liveTopologyRuns(RUNS, (pong, applied) => progress.tick(`applied after ${fmt(applied)} ms, first pong after ${fmt(pong)} ms`));
  const pong = medianCi(got.pong);
  return {
    title: '4. Live topology: a deploy reaches running nodes',
    markdown: [
      `Three nodes run under \`meshx-node run --kv\` (Consul 1.8.7 dev agent, built-in proxies, \`-connect_all false\`) with edges a–c and b–c; the changed manifests and intentions adding a–b are written to KV as a deploy writes them, and node a pings b every 10 ms from that moment. ${RUNS} runs, a fresh mesh each. ms from the KV write, medians with 95% bootstrap intervals.`,
      '',
      table(
        ['from the KV write to', 'ms'],
        [
          [
            'the helper applied the new version (upstream registered, listeners proven, routes, DNS host map, hosts file, peers)',
            fmtCi(medianCi(got.applied), 0),
          ],
          ['the first pong on the new edge', fmtCi(pong, 0)],
        ],
      ),
      '',
      "Where the rest goes: once the helper applied the version, the BEAM's next ping resolves the new peer's host at once: its inetrc (`{lookup, [file, dns, native]}`) has inet_db ask the helper's loopback DNS responder (TCP, TTL 0, NXDOMAIN not cached) after the hosts file misses, and the responder's host map switched with the EPMD routes. The hosts file alone would have added inet_db's 5 to 6 s wait before it looks at the file again (OTP 25). The rest is the EPMD lookup, the connection through both sidecars and the distribution handshake.",
    ].join('\n'),
    goals: [goalAtMost('live topology: KV write to first pong on a new edge <= 2 s', pong, 2000, 0, ' ms')],
    samples: got,
  };
}

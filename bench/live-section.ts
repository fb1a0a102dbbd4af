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
      table(['from the KV write to', 'ms'], [['the helper applied the new version (upstream registered, listeners proven, routes, hosts file, peers)', fmtCi(medianCi(got.applied), 0)], ['the first pong on the new edge', fmtCi(pong, 0)]]),
      '',
      "Where the rest goes: the BEAM resolves the peer's host through inet_db, which looks at its hosts file again only once 5 s have passed since its last look (OTP 25). Pinging from the moment of the write, the first (failed) lookup comes before the new file exists and starts that interval. The goal needs the new host to resolve without that wait, e.g. a loopback DNS answer from the helper (inetrc `{lookup, [file, dns]}`), not built yet.",
    ].join('\n'),
    goals: [goalAtMost('live topology: KV write to first pong on a new edge <= 2 s', pong, 2000, 0, ' ms')],
    samples: got,
  };
}

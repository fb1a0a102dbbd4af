// 4. Live topology: from a manifest change (a deploy's KV write) to the first pong on a new edge
// between two running nodes (bench/live.ts).
import { fmt, fmtCi, goalAtMost, Progress, rounds, Section, table } from './lib';
import { liveTopologyRuns } from './live';
import { medianCi } from './stats';
import { prose } from './results';

const RUNS = rounds(9);

export async function liveBench(): Promise<Section> {
  const progress = new Progress('live', RUNS);
  const got = await liveTopologyRuns(RUNS, (pong, applied) => progress.tick(`applied after ${fmt(applied)} ms, first pong after ${fmt(pong)} ms`));
  const pong = medianCi(got.pong);
  return {
    title: '4. Live topology: a deploy reaches running nodes',
    markdown: [
      prose.live.method(RUNS),
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
      prose.live.rest,
    ].join('\n'),
    goals: [goalAtMost('live topology: KV write to first pong on a new edge <= 2 s', pong, 2000, 0, ' ms')],
    samples: got,
  };
}

// 3. Cluster formation across hosts (bench/cluster.ts on the netns cluster of support/cluster).
import * as os from 'node:os';
import { clusterFormationSamples } from './cluster';
import { fmt, fmtCi, goalAtMost, Progress, rounds, Section, table } from './lib';
import { medianCi, ratioCi } from './stats';
import { prose } from './results';

const ROUNDS = rounds(7);

export async function clusterBench(): Promise<Section> {
  const progress = new Progress('cluster', ROUNDS);
  const got = await clusterFormationSamples(ROUNDS, (m, p) => progress.tick(`mesh ${fmt(m)} ms, plain ${fmt(p)} ms`));
  const mesh = medianCi(got.mesh);
  return {
    title: '3. Cluster formation across hosts',
    markdown: [
      prose.cluster.method(ROUNDS),
      '',
      table(
        ['path', 'all 132 pairs pong (ms)', 'ratio to plain'],
        [
          ['plain erl -name, epmd per host', fmtCi(medianCi(got.plain), 0), ''],
          ['meshx-node run, built-in proxies', fmtCi(mesh, 0), fmtCi(ratioCi(got.mesh, got.plain))],
        ],
      ),
      '',
      prose.cluster.time(fmtCi(medianCi(got.meshBooted), 0), os.cpus().length),
    ].join('\n'),
    goals: [goalAtMost('cluster formation, 3 hosts x 4 nodes, full mesh <= 2x plain', ratioCi(got.mesh, got.plain), 2)],
    samples: got,
  };
}

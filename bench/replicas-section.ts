// 8. Replica groups on the netns cluster (bench/replicas.ts): a new replica's join, and the
// formation of 3 hosts x 8 replicas against plain `erl -name` with net_adm:world_list/1.
import * as os from 'node:os';
import { fmt, fmtCi, goalAtMost, Progress, rounds, Section, table } from './lib';
import { HOSTS, PER_HOST, PING_EVERY_MS, ReplicaSamples, replicaSamples } from './replicas';
import { differenceCi, medianCi, ratioCi } from './stats';
import { prose } from './results';

const JOIN_ROUNDS = rounds(8);
const FORMATION_ROUNDS = rounds(5);

export async function replicasBench(): Promise<Section> {
  const progress = new Progress('replicas', JOIN_ROUNDS + FORMATION_ROUNDS);
  return replicasSection(await replicaSamples(JOIN_ROUNDS, FORMATION_ROUNDS, (what) => progress.tick(what)));
}

/** The section from its samples (also to render saved samples again). */
export function replicasSection(got: ReplicaSamples): Section {
  const { join, formation } = got;
  const joinRounds = join.pong.length / 2;
  const slow = join.pong.map((t, i) => t - join.added[i]).filter((d) => d > 1000);
  const notes = Object.entries(got.notes).sort((a, b) => b[1] - a[1]);
  const pong = medianCi(join.pong);
  const byHost = (xs: number[], host: number) => xs.filter((_, i) => join.pinger[i] === host);
  const n = HOSTS * PER_HOST;
  const ratio = ratioCi(formation.mesh, formation.plain);
  const afterPassing = formation.mesh.map((t, i) => t - formation.meshPassing[i]);
  return {
    title: '8. Replica groups on the cluster',
    markdown: [
      prose.replicas.join(joinRounds, join.pong.length, PING_EVERY_MS),
      '',
      table(
        ['from the new replica helper\'s `health passing` to', 'all (ms)', 'pinger on app-1', 'pinger on app-2'],
        [
          [
            'the pinging replica\'s helper logs `members of … added <new>`',
            fmtCi(medianCi(join.added), 0),
            fmtCi(medianCi(byHost(join.added, 1)), 0),
            fmtCi(medianCi(byHost(join.added, 2)), 0),
          ],
          [
            'the other running replica\'s helper logs it',
            fmtCi(medianCi(join.addedOther), 0),
            fmtCi(medianCi(byHost(join.addedOther, 1)), 0),
            fmtCi(medianCi(byHost(join.addedOther, 2)), 0),
          ],
          [
            'the first pong from the new replica',
            fmtCi(pong, 0),
            fmtCi(medianCi(byHost(join.pong, 1)), 0),
            fmtCi(medianCi(byHost(join.pong, 2)), 0),
          ],
        ],
      ),
      '',
      prose.replicas.joinRest(fmtCi(differenceCi(join.pong, join.added), 0), fmtCi(medianCi(join.boot), 0), fmtCi(medianCi(join.lag), 2)),
      ...(slow.length ? ['', prose.replicas.joinSlow(slow.length, join.pong.length, fmt(Math.min(...slow)), fmt(Math.max(...slow)))] : []),
      '',
      prose.replicas.formation(formation.mesh.length, HOSTS, PER_HOST),
      '',
      table(
        ['path', `all ${n * (n - 1)} ordered pairs pong (ms)`, 'ratio to plain'],
        [
          ['plain erl -name, epmd per host, net_adm:world_list/1', fmtCi(medianCi(formation.plain), 0), ''],
          ['meshx-node run, one group, built-in proxies', fmtCi(medianCi(formation.mesh), 0), fmtCi(ratio)],
        ],
      ),
      '',
      prose.replicas.formationTime({
        passing: fmtCi(medianCi(formation.meshPassing), 0),
        members: fmtCi(medianCi(formation.meshMembers), 0),
        after: fmtCi(medianCi(afterPassing), 0),
        n,
        cpus: os.cpus().length,
      }),
      '',
      prose.replicas.logs,
      '',
      table(['times', 'line (node names and numbers masked)'], notes.map(([line, count]) => [fmt(count), `\`${line.replace(/\s+/g, ' ')}\``])),
      '',
      prose.replicas.logsReading,
    ].join('\n'),
    goals: [
      goalAtMost('replica join: passing to first pong from a running replica on another host <= 1 s', pong, 1000, 0, ' ms'),
      goalAtMost(`replica formation, ${HOSTS} hosts x ${PER_HOST}: mesh / plain erl with world_list <= 3x`, ratio, 3),
    ],
    samples: got,
  };
}

// Renders bench/results.md from the saved section records (bench/samples/*.json).
import { RunEnv } from './env';
import { Section, table } from './lib';

export interface SectionRecord extends Section {
  readonly name: string;
  readonly env: RunEnv;
}

const VERDICT = { met: 'yes', missed: '**no**', undecided: 'undecided (interval spans the goal)' } as const;

function header(records: SectionRecord[]): string[] {
  const runs = new Map<string, { env: RunEnv; names: string[] }>();
  for (const r of records) {
    const key = `${r.env.date}|${r.env.commit}`;
    if (!runs.has(key)) runs.set(key, { env: r.env, names: [] });
    runs.get(key)!.names.push(r.name);
  }
  const facts = records.flatMap((r) => Object.entries(r.facts ?? {}).map(([k, v]) => `- ${k}: ${v}`));
  return [
    'Each section keeps its raw samples in `bench/samples/<section>.json`; a one-section run (`npm run bench -- boot`) replaces only that section, so sections may come from different runs:',
    '',
    table(
      ['run (UTC)', 'commit', 'sections', 'machine', 'Node', 'Erlang', 'Consul', 'Terraform'],
      [...runs.values()].map(({ env, names }) => [
        env.date,
        env.commit,
        names.join(', '),
        env.machine,
        env.node,
        env.erlang,
        env.consul,
        env.terraform ?? '',
      ]),
    ),
    '',
    ...(facts.length ? ['Measured in the run (TLS as negotiated on the wire, read from the ServerHello of each side):', '', ...facts, ''] : []),
    'The machine is shared and noisy: every figure is a median with its 95% percentile-bootstrap confidence interval `[lo, hi]` from the raw samples; variants are interleaved in a random order inside each round. A goal is **met** only when the whole interval clears it, **no** when the whole interval misses it, and undecided otherwise.',
  ];
}

export function renderResults(records: SectionRecord[]): string {
  const goals = records.flatMap((r) => r.goals);
  return [
    '# Benchmarks',
    '',
    ...header(records),
    '',
    '## Goals',
    '',
    table(['goal', 'measured [95% CI]', 'met'], goals.map((g) => [g.goal, g.value, VERDICT[g.verdict]])),
    '',
    ...records.flatMap((r) => [`## ${r.title}`, '', r.markdown, '']),
  ].join('\n');
}

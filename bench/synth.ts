// 1. Synth scale: BeamMesh vs the same resources written by hand, each in a fresh process.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fmt, log, median, Section, table } from './lib';

const RUNS = 5;
const CASES: Array<{ shape: 'full' | 'ring'; n: number }> = [
  { shape: 'full', n: 10 },
  { shape: 'full', n: 50 },
  { shape: 'full', n: 200 },
  { shape: 'ring', n: 1000 },
];

interface Sample { ms: number; peakRssMb: number; counts: Record<string, number>; kvDigest: string }

function sample(variant: 'meshx' | 'raw', shape: string, n: number): Sample {
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'synth-worker.js'), variant, shape, String(n)], { encoding: 'utf8' }));
}

export async function synthBench(): Promise<Section> {
  const rows: Array<Array<string | number>> = [];
  const goals: Section['goals'] = [];
  const perEdge: number[] = [];
  for (const c of CASES) {
    const edges = c.shape === 'full' ? c.n * (c.n - 1) : 2 * c.n;
    const m: Sample[] = [];
    const r: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so drift on a shared machine hits both alike.
      m.push(sample('meshx', c.shape, c.n));
      r.push(sample('raw', c.shape, c.n));
    }
    if (JSON.stringify(m[0].counts) !== JSON.stringify(r[0].counts) || m[0].kvDigest !== r[0].kvDigest) {
      throw new Error(`${c.shape} ${c.n}: the hand-written variant does not emit the same resources`);
    }
    const mt = median(m.map((s) => s.ms));
    const rt = median(r.map((s) => s.ms));
    const mm = median(m.map((s) => s.peakRssMb));
    const rm = median(r.map((s) => s.peakRssMb));
    perEdge.push(mt / edges);
    const label = `${c.shape === 'full' ? 'full mesh' : 'ring'} of ${c.n}`;
    rows.push([label, fmt(edges), Object.values(m[0].counts).reduce((a, b) => a + b, 0), fmt(mt), fmt(rt), fmt(mt / rt, 2), fmt(mm), fmt(rm), fmt(mm / rm, 2), fmt((mt * 1000) / edges, 1)]);
    goals.push({ goal: `synth time ratio <= 1.3 (${label})`, met: mt / rt <= 1.3, value: fmt(mt / rt, 2) });
    log(`synth ${label}: ${fmt(mt)} ms vs ${fmt(rt)} ms`);
  }
  return {
    title: '1. Synth scale: BeamMesh vs the same resources by hand',
    markdown: [
      `Time from constructing the stack to \`app.synth()\` written to disk, and peak RSS, each run in a fresh Node process; median of ${RUNS} interleaved runs. Both variants emit identical resources (checked: same counts and the same manifest bytes).`,
      '',
      table(['mesh', 'edges', 'resources', 'BeamMesh ms', 'by hand ms', 'time ratio', 'BeamMesh MB', 'by hand MB', 'memory ratio', 'BeamMesh µs/edge'], rows),
    ].join('\n'),
    goals,
  };
}

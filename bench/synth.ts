// 1. Synth scale: BeamMesh vs the same resources written by hand, each in a fresh process.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fmt, fmtCi, goalAtMost, median, Progress, rounds, Section, shuffled, table } from './lib';
import { ratioCi } from './stats';
import { prose } from './results';

// The small cases take ~35-150 ms and are bimodal on this shared machine (±15 ms per process): more samples.
const CASES: Array<{ shape: 'full' | 'ring'; n: number; runs: number }> = [
  { shape: 'full', n: 10, runs: 25 },
  { shape: 'full', n: 50, runs: 15 },
  { shape: 'full', n: 200, runs: 11 },
  { shape: 'ring', n: 1000, runs: 9 },
];

interface Sample { ms: number; cpuMs: number; peakRssMb: number; counts: Record<string, number>; kvDigest: string }

function sample(variant: 'meshx' | 'raw', shape: string, n: number): Sample {
  return JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'synth-worker.js'), variant, shape, String(n)], { encoding: 'utf8' }));
}

/**
 * Least-squares fit of BeamMesh time = a + b * resources + c * edges over the sizes, printed
 * with each size's fitted and measured time: the cost is linear when the points sit on the line.
 */
function linearFit(points: Array<{ resources: number; edges: number; ms: number }>): string {
  const X = points.map((p) => [1, p.resources, p.edges]);
  const y = points.map((p) => p.ms);
  const XtX = [0, 1, 2].map((i) => [0, 1, 2].map((j) => X.reduce((s, r) => s + r[i] * r[j], 0)));
  const Xty = [0, 1, 2].map((i) => X.reduce((s, r, k) => s + r[i] * y[k], 0));
  // Solve the 3x3 system by Gaussian elimination.
  const A = XtX.map((r, i) => [...r, Xty[i]]);
  for (let c = 0; c < 3; c++) {
    for (let r = c + 1; r < 3; r++) {
      const f = A[r][c] / A[c][c];
      for (let k = c; k < 4; k++) A[r][k] -= f * A[c][k];
    }
  }
  const beta = [0, 0, 0];
  for (let r = 2; r >= 0; r--) beta[r] = (A[r][3] - A[r].slice(r + 1, 3).reduce((s, v, k) => s + v * beta[r + 1 + k], 0)) / A[r][r];
  const predicted = points.map((p) => beta[0] + beta[1] * p.resources + beta[2] * p.edges);
  return [
    prose.synth.fit(fmt(beta[0]), fmt(beta[1] * 1000), fmt(beta[2] * 1000, 1)),
    prose.synth.fitVsMeasured(points.map((_p, i) => `${fmt(predicted[i])} / ${fmt(y[i])}`).join(', ')),
  ].join(' ');
}

export async function synthBench(): Promise<Section> {
  const rows: Array<Array<string | number>> = [];
  const goals: Section['goals'] = [];
  const fitPoints: Array<{ resources: number; edges: number; ms: number }> = [];
  const samples: Record<string, { meshx: Sample[]; raw: Sample[] }> = {};
  const progress = new Progress('synth', CASES.reduce((a, c) => a + rounds(c.runs), 0));
  for (const c of CASES) {
    const edges = c.shape === 'full' ? c.n * (c.n - 1) : 2 * c.n;
    const label = `${c.shape === 'full' ? 'full mesh' : 'ring'} of ${c.n}`;
    const got = { meshx: [] as Sample[], raw: [] as Sample[] };
    for (let i = 0; i < rounds(c.runs); i++) {
      // Interleaved in a random order, so drift on a shared machine hits both alike.
      for (const v of shuffled(['meshx', 'raw'] as const)) got[v].push(sample(v, c.shape, c.n));
      progress.tick(label);
    }
    const [m, r] = [got.meshx, got.raw];
    if (JSON.stringify(m[0].counts) !== JSON.stringify(r[0].counts) || m[0].kvDigest !== r[0].kvDigest) {
      throw new Error(`${c.shape} ${c.n}: the hand-written variant does not emit the same resources`);
    }
    samples[label] = got;
    const time = ratioCi(m.map((s) => s.ms), r.map((s) => s.ms));
    const mem = ratioCi(m.map((s) => s.peakRssMb), r.map((s) => s.peakRssMb));
    const cpu = ratioCi(m.map((s) => s.cpuMs), r.map((s) => s.cpuMs));
    const mt = median(m.map((s) => s.ms));
    const resources = Object.values(m[0].counts).reduce((a, b) => a + b, 0);
    fitPoints.push({ resources, edges, ms: mt });
    rows.push([
      label,
      fmt(edges),
      fmt(resources),
      fmt(mt),
      fmt(median(r.map((s) => s.ms))),
      fmtCi(time),
      fmtCi(cpu),
      fmt(median(m.map((s) => s.peakRssMb))),
      fmt(median(r.map((s) => s.peakRssMb))),
      fmtCi(mem),
    ]);
    goals.push(goalAtMost(`synth time ratio <= 1.1 (${label})`, time, 1.1));
  }
  return {
    title: '1. Synth scale: BeamMesh vs the same resources by hand',
    markdown: [
      prose.synth.method(CASES.map((c) => c.runs).join(', ')),
      '',
      table(
        [
          'mesh', 'edges', 'resources', 'BeamMesh ms', 'by hand ms', 'time ratio [95% CI]', 'CPU time ratio [95% CI]',
          'BeamMesh MB', 'by hand MB', 'memory ratio [95% CI]',
        ],
        rows,
      ),
      '',
      linearFit(fitPoints),
    ].join('\n'),
    goals,
    samples,
  };
}

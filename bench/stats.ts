// Statistics of the benchmarks: medians, quantiles and percentile-bootstrap confidence intervals
// from the raw samples. A goal is judged on the whole interval, not on the median alone.
import { seededRandom } from '../support/random';

export const median = (xs: ArrayLike<number>): number => {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const quantile = (xs: ArrayLike<number>, q: number): number => {
  const s = Array.from(xs).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function resample(xs: number[], rand: () => number): number[] {
  return xs.map(() => xs[Math.floor(rand() * xs.length)]);
}

/** An estimate with its 95% confidence interval [lo, hi]. */
export interface Estimate {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  readonly n: number;
}

const ITERATIONS = 4000;

/**
 * Percentile bootstrap: each group is resampled independently (the groups were interleaved in
 * time, so drift hit both alike), the statistic recomputed, and the 2.5 and 97.5 percentiles of
 * its distribution taken.
 */
export function bootstrap(groups: number[][], stat: (...gs: number[][]) => number, seed = 20261202): Estimate {
  if (groups.some((g) => g.length === 0)) throw new Error('bootstrap: a group has no samples');
  const rand = seededRandom(seed); // seeded: the same samples give the same interval on every render
  const dist = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) dist[i] = stat(...groups.map((g) => resample(g, rand)));
  return { value: stat(...groups), lo: quantile(dist, 0.025), hi: quantile(dist, 0.975), n: Math.min(...groups.map((g) => g.length)) };
}

/** The median of one group, with its interval. */
export const medianCi = (xs: number[]): Estimate => bootstrap([xs], (a) => median(a));

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The mean of one group, with its interval: for rates whose events fall in some windows only. */
export const meanCi = (xs: number[]): Estimate => bootstrap([xs], (a) => mean(a));

/** median(a) / median(b), with its interval. */
export const ratioCi = (a: number[], b: number[]): Estimate => bootstrap([a, b], (x, y) => median(x) / median(y));

/** median(a) - median(b), with its interval. */
export const differenceCi = (a: number[], b: number[]): Estimate => bootstrap([a, b], (x, y) => median(x) - median(y));

export type Verdict = 'met' | 'missed' | 'undecided';

/** Met when the whole interval is at or below the limit; missed when the whole of it is above. */
export function atMost(e: Estimate, limit: number): Verdict {
  if (e.hi <= limit) return 'met';
  return e.lo > limit ? 'missed' : 'undecided';
}

/** Met when the whole interval is at or above the limit; missed when the whole of it is below. */
export function atLeast(e: Estimate, limit: number): Verdict {
  if (e.lo >= limit) return 'met';
  return e.hi < limit ? 'missed' : 'undecided';
}

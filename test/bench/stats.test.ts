import { goalAtLeast, goalAtMost } from '../../bench/lib';
import { renderResults, SectionRecord } from '../../bench/results';
import { atLeast, atMost, bootstrap, differenceCi, Estimate, meanCi, median, medianCi, quantile, ratioCi } from '../../bench/stats';
import { seededRandom } from '../../support/random';

const est = (lo: number, value: number, hi: number): Estimate => ({ value, lo, hi, n: 10 });

/** n samples around `center`, spread ±`spread`, the same on every run. */
function samples(n: number, center: number, spread: number, seed = 1): number[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => center + (r() * 2 - 1) * spread);
}

describe('median and quantile', () => {
  test('median of an odd and an even count, unsorted, input left as it was', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median(new Float64Array([2, 9]))).toBe(5.5);
  });

  test('median of nothing is NaN', () => {
    expect(median([])).toBeNaN();
  });

  test('quantile: the value at floor(q·n) of the sorted samples, clamped to the largest', () => {
    const xs = [10, 40, 20, 30];
    expect(quantile(xs, 0)).toBe(10);
    expect(quantile(xs, 0.5)).toBe(30);
    expect(quantile(xs, 0.975)).toBe(40);
    expect(quantile(xs, 1)).toBe(40);
  });
});

describe('bootstrap confidence intervals', () => {
  test('the estimate is the statistic of the whole samples, inside its interval', () => {
    const xs = samples(40, 100, 20);
    const e = medianCi(xs);
    expect(e.value).toBe(median(xs));
    expect(e.lo).toBeLessThanOrEqual(e.value);
    expect(e.hi).toBeGreaterThanOrEqual(e.value);
    expect(e.lo).toBeLessThan(e.hi);
    expect(e.n).toBe(40);
  });

  test('seeded: the same samples give the same interval on every render; the seed drives the resampling', () => {
    const xs = samples(25, 50, 10);
    expect(medianCi(xs)).toEqual(medianCi(xs));
    // A mean takes continuous values (a median only the samples'), so another seed shows in its interval.
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(bootstrap([xs], mean, 7)).toEqual(bootstrap([xs], mean, 7));
    expect(bootstrap([xs], mean, 7)).not.toEqual(bootstrap([xs], mean, 8));
  });

  test('constant samples give a zero-width interval', () => {
    expect(medianCi([3, 3, 3, 3])).toEqual({ value: 3, lo: 3, hi: 3, n: 4 });
    expect(ratioCi([6, 6, 6], [2, 2])).toEqual({ value: 3, lo: 3, hi: 3, n: 2 });
    expect(differenceCi([6, 6, 6], [2, 2])).toEqual({ value: 4, lo: 4, hi: 4, n: 2 });
  });

  test('the interval narrows as samples grow, and covers the true median of a symmetric spread', () => {
    const few = medianCi(samples(10, 100, 20, 3));
    const many = medianCi(samples(400, 100, 20, 3));
    expect(many.hi - many.lo).toBeLessThan(few.hi - few.lo);
    expect(many.lo).toBeLessThan(100);
    expect(many.hi).toBeGreaterThan(100);
  });

  test('ratio and difference of medians, each group resampled on its own; n is the smaller group', () => {
    const a = samples(30, 200, 10, 4);
    const b = samples(20, 100, 10, 5);
    const ratio = ratioCi(a, b);
    expect(ratio.value).toBeCloseTo(median(a) / median(b), 12);
    expect(ratio.lo).toBeGreaterThan(1.5);
    expect(ratio.hi).toBeLessThan(2.5);
    expect(ratio.n).toBe(20);
    const diff = differenceCi(a, b);
    expect(diff.value).toBeCloseTo(median(a) - median(b), 12);
    expect(diff.lo).toBeLessThanOrEqual(diff.value);
    expect(diff.hi).toBeGreaterThanOrEqual(diff.value);
  });

  test('mean with its interval (rates whose events fall in some windows only)', () => {
    const e = meanCi([0, 0, 0, 1, 0, 0, 0, 1]);
    expect(e.value).toBe(0.25);
    expect(e.lo).toBeGreaterThanOrEqual(0);
    expect(e.hi).toBeLessThanOrEqual(1);
    expect(e.lo).toBeLessThan(e.hi);
  });

  test('a group without samples is an error, not an interval', () => {
    expect(() => medianCi([])).toThrow('bootstrap: a group has no samples');
    expect(() => ratioCi([1, 2], [])).toThrow('bootstrap: a group has no samples');
  });
});

describe('goal verdicts on the whole interval', () => {
  test.each([
    ['whole interval below', est(1, 2, 3), 5, 'met'],
    ['upper end on the limit', est(1, 2, 5), 5, 'met'],
    ['interval spans the limit', est(4, 5, 6), 5, 'undecided'],
    ['median below, upper end above', est(3, 4, 6), 5, 'undecided'],
    ['lower end on the limit', est(5, 6, 7), 5, 'undecided'],
    ['whole interval above', est(6, 7, 8), 5, 'missed'],
  ] as const)('at most: %s -> %s', (_what, e, limit, verdict) => {
    expect(atMost(e, limit)).toBe(verdict);
  });

  test.each([
    ['whole interval above', est(6, 7, 8), 5, 'met'],
    ['lower end on the limit', est(5, 6, 7), 5, 'met'],
    ['interval spans the limit', est(4, 5, 6), 5, 'undecided'],
    ['median above, lower end below', est(4, 6, 7), 5, 'undecided'],
    ['upper end on the limit', est(3, 4, 5), 5, 'undecided'],
    ['whole interval below', est(1, 2, 3), 5, 'missed'],
  ] as const)('at least: %s -> %s', (_what, e, limit, verdict) => {
    expect(atLeast(e, limit)).toBe(verdict);
  });

  test('a zero-width interval on the limit meets it both ways', () => {
    expect(atMost(est(5, 5, 5), 5)).toBe('met');
    expect(atLeast(est(5, 5, 5), 5)).toBe('met');
  });

  test('goals carry the estimate as printed and render as yes, **no** and undecided', () => {
    const met = goalAtMost('boot <= 1.5 s', est(900, 1000, 1100), 1500, 0, ' ms');
    const missed = goalAtLeast('lookups/s >= epmd', est(0.81, 0.9, 0.96), 1);
    const undecided = goalAtLeast('lookups/s >= epmd (one client)', est(0.91, 0.96, 1.02), 1);
    expect(met).toEqual({ goal: 'boot <= 1.5 s', value: '1,000 ms [900, 1,100]', verdict: 'met' });
    expect([missed.value, missed.verdict, undecided.verdict]).toEqual(['0.90 [0.81, 0.96]', 'missed', 'undecided']);
    const env = { date: 'd', commit: 'c', machine: 'm', node: 'n', erlang: 'e', consul: 'k' };
    const record = { name: 's', env, title: 'S', markdown: 'body', goals: [met, missed, undecided], samples: {} } as unknown as SectionRecord;
    const md = renderResults([record]);
    expect(md).toContain('| boot <= 1.5 s | 1,000 ms [900, 1,100] | yes |');
    expect(md).toContain('| lookups/s >= epmd | 0.90 [0.81, 0.96] | **no** |');
    expect(md).toContain('| lookups/s >= epmd (one client) | 0.96 [0.91, 1.02] | undecided (interval spans the goal) |');
  });
});

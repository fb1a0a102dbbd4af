import { backoffMs, nextIndex } from '../../../lib/runtime/consul/index-rules';

describe('blocking query index rules', () => {
  test('an index that moves forward (or stays) is sent back as is', () => {
    expect(nextIndex(0, 42)).toBe(42);
    expect(nextIndex(42, 42)).toBe(42);
    expect(nextIndex(42, 50)).toBe(50);
  });

  test('an index that goes backwards resets the watch to 0', () => {
    expect(nextIndex(50, 7)).toBe(0);
  });

  test('an index not above 0 (or missing) becomes 1, never 0: 0 would answer at once, forever', () => {
    expect(nextIndex(50, 0)).toBe(1);
    expect(nextIndex(0, -3)).toBe(1);
    expect(nextIndex(5, NaN)).toBe(1);
  });

  test('backoff doubles from the base and is bounded', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffMs(3, 10, 25)).toBe(25);
  });
});

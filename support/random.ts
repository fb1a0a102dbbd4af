// The one seeded PRNG of tests and bench: the same seed gives the same sequence on every run, so
// a fuzz failure replays from its seed and a bench render gives the same intervals every time.

/** mulberry32: 32 bits of state, uniform in [0, 1). Not for anything secret. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

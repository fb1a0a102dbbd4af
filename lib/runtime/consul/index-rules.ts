// Consul's rules for the index of blocking queries (docs: "Blocking Queries", implementation
// details): an index that goes backwards (a snapshot restore, a new cluster) resets the watch,
// and an index that is not above 0 must never be sent back (it would return at once, forever).

/** The index to send on the next blocking query, given the last one sent and the one answered. */
export function nextIndex(previous: number, answered: number): number {
  if (!Number.isFinite(answered) || answered <= 0) return 1;
  if (answered < previous) return 0;
  return answered;
}

/** Bounded exponential backoff after failed queries: 1 s, 2 s, 4 s … up to 30 s. */
export function backoffMs(failures: number, baseMs = 1000, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}

// Polling until a deadline, for tests, the demo and the bench: the one loop that asks something
// again and again until it holds or time is up. Always bounded: a deadline is required, and capped.

/** The longest wait anyone may ask for: a caller's typo must not hang a run for hours. */
export const MAX_WAIT_MS = 15 * 60_000;

export interface PollOptions {
  /** How long to keep trying, from the call. At least one try is made however short it is. */
  readonly timeoutMs: number;
  /** Pause between tries (never past the deadline). Default 100 ms. */
  readonly intervalMs?: number;
  /** Checked before each try: a reason to give up at once (a process it waits on has exited). */
  readonly failed?: () => string | undefined;
  /** A try that throws counts as "not yet" instead of ending the wait. Default false. */
  readonly retryErrors?: boolean;
}

export interface PollResult<T> {
  /** Whether `done` held before the deadline. */
  readonly met: boolean;
  /** The last try's value (undefined when the last try threw and `retryErrors` is set). */
  readonly value: T | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `probe` until `done(value)` holds or `timeoutMs` has passed, and says which: for waits
 * whose caller decides what a timeout means (a last answer to return, a boolean to assert).
 */
export async function poll<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, o: PollOptions): Promise<PollResult<T>> {
  if (!(o.timeoutMs >= 0 && o.timeoutMs <= MAX_WAIT_MS)) throw new Error(`poll: timeoutMs ${o.timeoutMs} is not within 0..${MAX_WAIT_MS}`);
  const interval = o.intervalMs ?? 100;
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const why = o.failed?.();
    if (why) throw new Error(why);
    let value: T | undefined;
    let ok = false;
    try {
      value = await probe();
      ok = done(value);
    } catch (e) {
      if (!o.retryErrors) throw e;
      value = undefined;
    }
    if (ok) return { met: true, value };
    const left = deadline - Date.now();
    if (left <= 0) return { met: false, value };
    await sleep(Math.min(interval, left));
  }
}

/**
 * Runs `probe` until it returns something other than undefined (or false), and returns that; at
 * the deadline throws `message` (a function is asked then, so it can name what was still missing).
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  o: PollOptions & { readonly message: string | (() => string) },
): Promise<T> {
  const r = await poll(probe, (v) => v !== undefined && v !== false, o);
  if (r.met) return r.value as T;
  throw new Error(typeof o.message === 'string' ? o.message : o.message());
}

import { MAX_WAIT_MS, poll, waitFor } from '../../support/wait';

describe('poll', () => {
  test('stops at the first try that holds, with its value', async () => {
    let n = 0;
    const r = await poll(() => ++n, (v) => v === 3, { timeoutMs: 5000, intervalMs: 1 });
    expect(r).toEqual({ met: true, value: 3 });
    expect(n).toBe(3);
  });

  test('at the deadline: not met, with the last value; at least one try however short', async () => {
    let n = 0;
    const t0 = Date.now();
    const r = await poll(() => ++n, () => false, { timeoutMs: 60, intervalMs: 20 });
    expect(r.met).toBe(false);
    expect(r.value).toBe(n);
    expect(Date.now() - t0).toBeLessThan(1000);
    let once = 0;
    expect(await poll(() => ++once, () => false, { timeoutMs: 0 })).toEqual({ met: false, value: 1 });
  });

  test('a try that throws ends the wait, unless errors are retried', async () => {
    await expect(poll(() => Promise.reject(new Error('down')), () => true, { timeoutMs: 1000 })).rejects.toThrow('down');
    let n = 0;
    const flaky = async () => {
      if (++n < 3) throw new Error('not yet');
      return 'up';
    };
    expect(await poll(flaky, (v) => v === 'up', { timeoutMs: 5000, intervalMs: 1, retryErrors: true })).toEqual({ met: true, value: 'up' });
  });

  test('failed() gives up at once with its reason', async () => {
    await expect(poll(() => 1, () => false, { timeoutMs: 5000, failed: () => 'agent exited' })).rejects.toThrow('agent exited');
  });

  test('bounded: a deadline over the cap, negative or not a number is refused', async () => {
    for (const timeoutMs of [MAX_WAIT_MS + 1, -1, NaN, Infinity]) {
      await expect(poll(() => 1, () => true, { timeoutMs })).rejects.toThrow(/poll: timeoutMs .* is not within/);
    }
  });
});

describe('waitFor', () => {
  test('returns the first value that is neither undefined nor false', async () => {
    const values = [undefined, false, 0, 5];
    expect(await waitFor(() => values.shift(), { timeoutMs: 5000, intervalMs: 1, message: 'never' })).toBe(0);
  });

  test("throws the caller's message at the deadline, asked for then", async () => {
    let tries = 0;
    const probe = () => {
      tries++;
      return undefined;
    };
    await expect(waitFor(probe, { timeoutMs: 30, intervalMs: 5, message: () => `still missing after ${tries} tries` })).rejects.toThrow(
      /^still missing after \d+ tries$/,
    );
  });
});

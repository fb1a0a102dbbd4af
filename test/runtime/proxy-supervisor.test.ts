import { ProxySupervisor } from '../../lib/runtime/proxy-supervisor';
import { isAlive, waitGone } from '../../support/mesh-node';

/** Waits until `cond` holds (polling), so a slow machine only makes the test slower. */
async function until(cond: () => boolean, timeoutMs = 10000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ProxySupervisor', () => {
  test('prefixes every output line, restarts a dying proxy with doubling backoff, stops cleanly', async () => {
    const lines: string[] = [];
    const logs: string[] = [];
    const sup = new ProxySupervisor({
      argv: ['sh', '-c', 'echo "starting $$"; echo oops >&2; exit 3'],
      env: process.env,
      output: (l) => lines.push(l),
      log: (l) => logs.push(l),
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    });
    const delays: number[] = [];
    sup.on('restart', (_n: number, d: number) => delays.push(d));
    sup.start();
    await until(() => delays.length >= 4 && lines.filter((l) => l === 'oops').length >= 4);
    await sup.stop(1000);
    expect(delays.slice(0, 4)).toEqual([50, 100, 200, 200]);
    expect(lines.filter((l) => l === 'oops').length).toBeGreaterThanOrEqual(4);
    expect(lines.some((l) => /^starting \d+$/.test(l))).toBe(true);
    expect(logs[0]).toBe('proxy exited (code 3); restarting in 50 ms (restart 1)');
    const count = sup.restartCount;
    await new Promise((r) => setTimeout(r, 300));
    expect(sup.restartCount).toBe(count); // no restart after stop
  });

  test('stop() ends a long-running proxy with SIGTERM and does not restart it', async () => {
    const sup = new ProxySupervisor({ argv: ['sleep', '60'], env: process.env, output: () => undefined, log: () => undefined });
    const spawned = new Promise<number>((r) => sup.once('spawn', r));
    sup.start();
    const pid = await spawned;
    expect(isAlive(pid)).toBe(true);
    expect(sup.running).toBe(true);
    await sup.stop(2000);
    expect(await waitGone([pid], 2000)).toBe(true);
    expect(sup.running).toBe(false);
    expect(sup.restartCount).toBe(0);
  });

  test('a run longer than stableAfterMs resets the backoff', async () => {
    const delays: number[] = [];
    const sup = new ProxySupervisor({ argv: ['sh', '-c', 'sleep 0.15; exit 1'], env: process.env, output: () => undefined, log: () => undefined, initialBackoffMs: 20, stableAfterMs: 100 });
    sup.on('restart', (_n: number, d: number) => delays.push(d));
    sup.start();
    await until(() => delays.length >= 3);
    await sup.stop(500);
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(new Set(delays)).toEqual(new Set([20]));
  });
});

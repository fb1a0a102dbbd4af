import { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { spawnTied } from '../../../lib/runtime/child';
import { ProxySupervisor } from '../../../lib/runtime/proxy/supervisor';
import { isAlive, waitGone } from '../../../support/mesh-node';

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
    const sup = new ProxySupervisor({
      argv: ['sh', '-c', 'sleep 0.15; exit 1'],
      env: process.env,
      output: () => undefined,
      log: () => undefined,
      initialBackoffMs: 20,
      stableAfterMs: 100,
    });
    sup.on('restart', (_n: number, d: number) => delays.push(d));
    sup.start();
    await until(() => delays.length >= 3);
    await sup.stop(500);
    expect(delays.length).toBeGreaterThanOrEqual(3);
    expect(new Set(delays)).toEqual(new Set([20]));
  });

  test('a proxy that fails to spawn (EAGAIN, EMFILE: an error event and no exit, or a throw) is retried with the same backoff', async () => {
    const logs: string[] = [];
    let attempts = 0;
    // The first three spawns fail the ways fork/exec can under load; the fourth works.
    const spawn = ((argv: string[], options: SpawnOptions) => {
      attempts++;
      if (attempts === 1 || attempts === 3) {
        const failed = Object.assign(new EventEmitter(), {
          pid: undefined,
          exitCode: null,
          signalCode: null,
          kill: () => false,
        }) as unknown as ChildProcess;
        const code = attempts === 1 ? 'EAGAIN' : 'EMFILE';
        process.nextTick(() => failed.emit('error', Object.assign(new Error(`spawn ${argv[0]} ${code}`), { code })));
        return failed;
      }
      if (attempts === 2) throw Object.assign(new Error('spawn EAGAIN'), { code: 'EAGAIN' });
      return spawnTied(['sleep', '60'], options);
    }) as NonNullable<ConstructorParameters<typeof ProxySupervisor>[0]['spawn']>;
    const delays: number[] = [];
    const sup = new ProxySupervisor({
      argv: ['envoy'],
      env: process.env,
      output: () => undefined,
      log: (l) => logs.push(l),
      initialBackoffMs: 30,
      spawn,
    });
    sup.on('restart', (_n: number, d: number) => delays.push(d));
    const spawned = new Promise<number>((r) => sup.once('spawn', r));
    sup.start();
    const pid = await spawned;
    try {
      expect(attempts).toBe(4);
      expect(delays).toEqual([30, 60, 120]);
      expect(logs.filter((l) => /restarting in/.test(l))).toEqual([
        'proxy failed to start: EAGAIN; restarting in 30 ms (restart 1)',
        'proxy failed to start: EAGAIN; restarting in 60 ms (restart 2)',
        'proxy failed to start: EMFILE; restarting in 120 ms (restart 3)',
      ]);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await sup.stop(1000);
    }
  });
});

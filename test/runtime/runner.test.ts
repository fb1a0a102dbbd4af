import { RuntimeFailure } from '../../lib/runtime/errors';
import { BootAborted, Runner } from '../../lib/runtime/runner';
import { BootStep } from '../../lib/runtime/steps/boot-step';

/** Steps that record what happens to them. */
function recorder() {
  const events: string[] = [];
  const step = (name: string, start: (signal: AbortSignal) => Promise<void> = async () => undefined): BootStep => ({
    name,
    async start(signal) {
      events.push(`start ${name}`);
      await start(signal);
    },
    preStop: () => void events.push(`preStop ${name}`),
    async stop() {
      events.push(`stop ${name}`);
    },
  });
  return { events, step };
}

describe('boot step runner', () => {
  test('starts in order and times each step; stop runs every preStop, then stops in reverse', async () => {
    const { events, step } = recorder();
    const runner = new Runner([step('a'), step('b'), step('c')], () => undefined);
    await runner.start();
    expect(runner.timings.map(([n]) => n)).toEqual(['a', 'b', 'c']);
    await runner.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'preStop c', 'preStop b', 'preStop a', 'stop c', 'stop b', 'stop a']);
  });

  test("a step whose work began earlier (the proxy's readiness wait) is timed by its own tookMs", async () => {
    const { step } = recorder();
    const runner = new Runner([step('a'), { ...step('proxy-ready'), tookMs: 123 }], () => undefined);
    await runner.start();
    expect(runner.timings.find(([n]) => n === 'proxy-ready')).toEqual(['proxy-ready', 123]);
    await runner.stop();
  });

  test('drain runs on every started step that has one, in reverse; a failure is logged and the rest still run', async () => {
    const { events, step } = recorder();
    const log: string[] = [];
    const failing = { ...step('b'), drain: async () => { throw new Error('agent gone'); } };
    const draining = (name: string) => ({ ...step(name), drain: async (why: string) => void events.push(`drain ${name}: ${why}`) });
    const runner = new Runner([draining('a'), failing, step('c'), draining('d')], (l) => log.push(l));
    await runner.start();
    await runner.drain('SIGTERM');
    expect(events.slice(4)).toEqual(['drain d: SIGTERM', 'drain a: SIGTERM']);
    expect(log).toEqual(['drain: b: agent gone']);
  });

  test('a failing step is named; it and the steps before it are undone in reverse; later steps never start', async () => {
    const { events, step } = recorder();
    const log: string[] = [];
    const runner = new Runner(
      [
        step('a'),
        step('b', async () => {
          throw new Error('port taken');
        }),
        step('c'),
      ],
      (m) => log.push(m),
    );
    await expect(runner.start()).rejects.toThrow(new RuntimeFailure('port taken'));
    await runner.stop();
    expect(log).toEqual(["boot step 'b' failed: port taken; undoing b, a"]);
    expect(events).toEqual(['start a', 'start b', 'preStop b', 'preStop a', 'stop b', 'stop a']);
  });

  test('an abort ends a step that is still waiting; the steps started are undone', async () => {
    const { events, step } = recorder();
    const log: string[] = [];
    let sawAbort = false;
    const waits = step(
      'proxy-ready',
      (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          }),
        ),
    );
    const runner = new Runner([step('a'), waits, step('beam')], (m) => log.push(m));
    const started = runner.start();
    setImmediate(() => runner.abort('SIGTERM'));
    await expect(started).rejects.toBeInstanceOf(BootAborted);
    expect(sawAbort).toBe(true);
    await runner.stop();
    expect(log[0]).toBe("boot step 'proxy-ready' interrupted (SIGTERM); undoing proxy-ready, a");
    expect(events).not.toContain('start beam');
    expect(events.slice(-2)).toEqual(['stop proxy-ready', 'stop a']);
  });

  test('a stop that fails is logged and the others still run', async () => {
    const { events, step } = recorder();
    const log: string[] = [];
    const broken: BootStep = {
      name: 'broken',
      start: async () => undefined,
      stop: async () => {
        throw new Error('agent gone');
      },
    };
    const runner = new Runner([step('a'), broken, step('c')], (m) => log.push(m));
    await runner.start();
    await runner.stop();
    expect(log).toEqual(['stop: broken failed: agent gone']);
    expect(events.filter((e) => e.startsWith('stop'))).toEqual(['stop c', 'stop a']);
  });

  test('after an abort, the step in flight settles before anything is undone (its effect is undone too)', async () => {
    const events: string[] = [];
    let finishRegistering: () => void = () => undefined;
    const registering: BootStep = {
      name: 'register',
      start: () =>
        new Promise<void>(
          (resolve) =>
            (finishRegistering = () => {
              events.push('registered');
              resolve();
            }),
        ),
      stop: async () => void events.push('deregistered'),
    };
    const runner = new Runner([registering], () => undefined);
    const started = runner.start().catch((e) => e);
    runner.abort('SIGTERM');
    setTimeout(() => finishRegistering(), 50);
    expect(await started).toBeInstanceOf(BootAborted);
    await runner.stop();
    expect(events).toEqual(['registered', 'deregistered']);
  });
});

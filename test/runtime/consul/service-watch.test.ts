import { ServiceWatch } from '../../../lib/runtime/consul/service-watch';

type Answer = { present: boolean; hash: string } | Error;

/**
 * A scripted agent: each serviceWatch call takes the next answer; past the script it blocks until
 * aborted, as a blocking query with nothing to report does.
 */
function scripted(answers: Answer[]) {
  const calls: Array<{ hash: string; waitS: number }> = [];
  let settle: () => void = () => undefined;
  const drained = new Promise<void>((r) => (settle = r));
  const agent = {
    serviceWatch: (_id: string, hash: string, waitS: number, signal?: AbortSignal) => {
      calls.push({ hash, waitS });
      const next = answers.shift();
      if (next === undefined) {
        settle();
        return new Promise<never>((_, reject) =>
          signal!.addEventListener('abort', () => reject(Object.assign(new Error('request aborted'), { name: 'AbortError' }))),
        );
      }
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  return { agent, calls, drained };
}

describe('ServiceWatch', () => {
  test('asks at once without a hash, then blocks on the hash answered, with the wait asked for', async () => {
    const { agent, calls, drained } = scripted([
      { present: true, hash: 'h1' },
      { present: true, hash: 'h2' },
    ]);
    const present: boolean[] = [];
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 100,
      onPresent: async (r) => void present.push(r),
      onMissing: async () => undefined,
      log: () => undefined,
    });
    w.start();
    await drained;
    await w.stop();
    expect(calls).toEqual([
      { hash: '', waitS: 100 },
      { hash: 'h1', waitS: 100 },
      { hash: 'h2', waitS: 100 },
    ]);
    expect(present).toEqual([false, false]);
  });

  test('an agent that does not answer: logged once, tried again with a bounded backoff, then "resumed"', async () => {
    const down = () => Object.assign(new Error('request failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:8500') });
    const { agent, calls, drained } = scripted([down(), down(), down(), { present: true, hash: 'h3' }]);
    const logs: string[] = [];
    const present: boolean[] = [];
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 100,
      onPresent: async (r) => void present.push(r),
      onMissing: async () => undefined,
      log: (m) => logs.push(m),
      backoffBaseMs: 5,
      backoffMaxMs: 10,
    });
    w.start();
    await drained;
    await w.stop();
    expect(logs).toEqual([
      'agent watch of shop-orders: connect ECONNREFUSED 127.0.0.1:8500; trying again, at most 0.01 s apart',
      'agent watch of shop-orders: the agent answers again',
    ]);
    // After a failure the query starts over without a hash: the answer comes at once.
    expect(calls.map((c) => c.hash)).toEqual(['', '', '', '', 'h3']);
    expect(present).toEqual([true]);
  });

  test('a missing service: onMissing, then asked again at once without a hash', async () => {
    const { agent, calls, drained } = scripted([
      { present: true, hash: 'h1' },
      { present: false, hash: '' },
      { present: true, hash: 'h9' },
    ]);
    const seen: string[] = [];
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 100,
      onPresent: async () => void seen.push('present'),
      onMissing: async () => void seen.push('missing'),
      log: () => undefined,
      backoffBaseMs: 5,
    });
    w.start();
    await drained;
    await w.stop();
    expect(seen).toEqual(['present', 'missing', 'present']);
    expect(calls.map((c) => c.hash)).toEqual(['', 'h1', '', 'h9']);
  });

  test('an agent that sends no content hash cannot block: then the watch polls once per wait, never spins', async () => {
    const { agent, calls, drained } = scripted([
      { present: true, hash: '' },
      { present: true, hash: '' },
    ]);
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 0.2,
      onPresent: async () => undefined,
      onMissing: async () => undefined,
      log: () => undefined,
    });
    const t0 = Date.now();
    w.start();
    await drained;
    await w.stop();
    expect(calls.map((c) => c.hash)).toEqual(['', '', '']);
    // Two sleeps of the wait (200 ms each) between the three queries, not back-to-back queries.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
  });

  test('a handler that throws is logged and the watch goes on', async () => {
    const { agent, calls, drained } = scripted([
      { present: false, hash: '' },
      { present: true, hash: 'h1' },
    ]);
    const logs: string[] = [];
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 100,
      onPresent: async () => undefined,
      onMissing: async () => {
        throw new Error('Consul agent answered 403');
      },
      log: (m) => logs.push(m),
      backoffBaseMs: 5,
    });
    w.start();
    await drained;
    await w.stop();
    expect(logs).toEqual(['agent watch of shop-orders: Consul agent answered 403']);
    expect(calls).toHaveLength(3);
  });

  test('stop aborts the query in flight and ends the loop', async () => {
    const { agent, calls, drained } = scripted([]);
    const w = new ServiceWatch({
      agent,
      serviceId: 'shop-orders',
      waitS: 600,
      onPresent: async () => undefined,
      onMissing: async () => undefined,
      log: () => undefined,
    });
    w.start();
    await drained;
    await w.stop();
    expect(calls).toHaveLength(1);
  });
});

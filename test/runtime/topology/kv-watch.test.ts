import { KvWatch, VersionOutcome } from '../../../lib/runtime/topology/kv-watch';

type Step = { index: number; value?: string } | Error;

/** A scripted agent: answers the steps in order, then blocks until the watch is stopped. */
function scripted(steps: Step[]) {
  const sent: number[] = [];
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  const agent = {
    kvWatch: (_key: string, index: number, _wait: number, signal?: AbortSignal) => {
      sent.push(index);
      const step = steps.shift();
      if (step instanceof Error) return Promise.reject(step);
      if (step) return Promise.resolve(step);
      drained();
      return new Promise<never>((_, reject) => signal!.addEventListener('abort', () => reject(new Error('aborted'))));
    },
  };
  return { agent, sent, done };
}

function watch(steps: Step[], outcome: (value: string | undefined) => VersionOutcome = () => 'applied') {
  const s = scripted(steps);
  const seen: Array<[string | undefined, number]> = [];
  const logs: string[] = [];
  const w = new KvWatch({
    agent: s.agent,
    key: 'meshx/shop/nodes/shop-orders',
    log: (l) => logs.push(l),
    backoffBaseMs: 1,
    onVersion: async (value, index) => {
      seen.push([value, index]);
      return outcome(value);
    },
  });
  w.start();
  return { ...s, seen, logs, w };
}

describe('KvWatch', () => {
  test('hands each new value over once, follows the index, resets it when it goes backwards or is not above 0', async () => {
    const t = watch([
      { index: 5, value: 'a' },
      { index: 5, value: 'a' },
      { index: 9, value: 'b' },
      { index: 3, value: 'c' },
      { index: 0, value: 'c' },
      { index: 12, value: undefined },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.seen).toEqual([['a', 5], ['b', 9], ['c', 3], [undefined, 12]]);
    expect(t.sent).toEqual([0, 5, 5, 9, 0, 1, 12]);
  });

  test('errors are logged and retried after a bounded backoff', async () => {
    const t = watch([new Error('connect ECONNREFUSED'), new Error('connect ECONNREFUSED'), { index: 4, value: 'a' }]);
    await t.done;
    await t.w.stop();
    expect(t.logs).toEqual([
      expect.stringMatching(/^manifest watch: connect ECONNREFUSED; retrying in \d+ s$/),
      expect.stringMatching(/ECONNREFUSED/),
    ]);
    expect(t.seen).toEqual([['a', 4]]);
  });

  test('a version that failed to apply is handed over again (index reset); a refused one is not', async () => {
    let tries = 0;
    const t = watch(
      [
        { index: 4, value: 'a' },
        { index: 4, value: 'a' },
        { index: 6, value: 'bad' },
        { index: 6, value: 'bad' },
      ],
      (v) => (v === 'a' && tries++ === 0 ? 'failed' : v === 'bad' ? 'refused' : 'applied'),
    );
    await t.done;
    await t.w.stop();
    expect(t.seen).toEqual([['a', 4], ['a', 4], ['bad', 6]]);
    expect(t.sent).toEqual([0, 0, 4, 6, 6]);
  });

  test('a handler that throws is logged and tried again: the watch goes on', async () => {
    let calls = 0;
    const t = watch([{ index: 4, value: 'a' }, { index: 4, value: 'a' }], () => {
      if (calls++ === 0) throw new Error('EROFS: read-only file system');
      return 'applied';
    });
    await t.done;
    await t.w.stop();
    expect(t.logs).toEqual(['manifest version 4: EROFS: read-only file system']);
    expect(t.seen).toEqual([['a', 4], ['a', 4]]);
  });

  test('stop() aborts the query in flight and ends the loop', async () => {
    const t = watch([]);
    await t.done;
    await expect(t.w.stop()).resolves.toBeUndefined();
    expect(t.sent).toEqual([0]);
  });
});

import { backoffMs } from '../../../lib/runtime/consul/index-rules';
import { MembersOutcome, MemberWatch } from '../../../lib/runtime/topology/member-watch';

type Step = { index: number; nodes: string[] } | Error;

/** A scripted agent: answers the steps in order, then blocks until the watch is stopped (its signal aborts). */
function scripted(steps: Step[]) {
  const sent: number[] = [];
  const asked: Array<{ service: string; mesh: string; waitS: number }> = [];
  let drained!: () => void;
  const done = new Promise<void>((r) => (drained = r));
  let aborted = false;
  const agent = {
    passingMembers: (service: string, mesh: string, index: number, waitS: number, signal?: AbortSignal) => {
      sent.push(index);
      asked.push({ service, mesh, waitS });
      const step = steps.shift();
      if (step instanceof Error) return Promise.reject(step);
      if (step) return Promise.resolve({ index: step.index, nodes: [...step.nodes] });
      drained();
      return new Promise<never>((_, reject) =>
        signal!.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        }),
      );
    },
  };
  return { agent, sent, asked, done, wasAborted: () => aborted };
}

function watch(
  steps: Step[],
  outcome: (nodes: string[]) => MembersOutcome = () => 'applied',
  over: { waitS?: number; backoffBaseMs?: number } = {},
) {
  const s = scripted(steps);
  const seen: Array<[string, string[]]> = [];
  const logs: string[] = [];
  const w = new MemberWatch({
    agent: s.agent,
    service: 'shop-api',
    mesh: 'shop',
    log: (l) => logs.push(l),
    backoffBaseMs: 1,
    ...over,
    onMembers: async (service, nodes) => {
      seen.push([service, nodes]);
      return outcome(nodes);
    },
  });
  w.start();
  return { ...s, seen, logs, w };
}

const A = 'api@api-1.shop.test';
const B = 'api@api-2.shop.test';
const C = 'api@api-3.shop.test';

describe('MemberWatch', () => {
  test('the first set is handed over, the same set again is not, a changed set is; the index follows the answers', async () => {
    const t = watch([
      { index: 5, nodes: [A] },
      { index: 6, nodes: [A] },
      { index: 9, nodes: [A, B] },
      { index: 10, nodes: [A, B] },
      { index: 12, nodes: [A] },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.seen).toEqual([['shop-api', [A]], ['shop-api', [A, B]], ['shop-api', [A]]]);
    expect(t.sent).toEqual([0, 5, 6, 9, 10, 12]);
    expect(t.logs).toEqual([]);
  });

  test('asks for its service in its mesh, with the wait given (300 s by default)', async () => {
    const t = watch([{ index: 3, nodes: [] }], undefined, { waitS: 7 });
    await t.done;
    await t.w.stop();
    expect(t.asked).toEqual([
      { service: 'shop-api', mesh: 'shop', waitS: 7 },
      { service: 'shop-api', mesh: 'shop', waitS: 7 },
    ]);
    const d = watch([]);
    await d.done;
    await d.w.stop();
    expect(d.asked).toEqual([{ service: 'shop-api', mesh: 'shop', waitS: 300 }]);
  });

  test('an empty group is a member set too: handed over once, and when members come back', async () => {
    const t = watch([
      { index: 2, nodes: [] },
      { index: 3, nodes: [] },
      { index: 4, nodes: [A] },
      { index: 5, nodes: [] },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.seen.map(([, n]) => n)).toEqual([[], [A], []]);
  });

  test('a wake-up with the same members (an unrelated change raised the index) hands nothing over', async () => {
    const t = watch([
      { index: 5, nodes: [A, B] },
      { index: 8, nodes: [A, B] },
      { index: 11, nodes: [A, B] },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.seen).toEqual([['shop-api', [A, B]]]);
    expect(t.sent).toEqual([0, 5, 8, 11]);
  });

  test('an index that goes backwards resets the watch; one not above 0 is never sent back', async () => {
    const t = watch([
      { index: 9, nodes: [A] },
      { index: 4, nodes: [A] },
      { index: 0, nodes: [A] },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.sent).toEqual([0, 9, 0, 1]);
  });

  test('node names that are not valid are left out before comparing', async () => {
    const t = watch([
      { index: 5, nodes: [A, 'not a node', 'api@', '@host'] },
      { index: 6, nodes: [A, 'still@not valid'] },
      { index: 7, nodes: ['-', B, C] },
    ]);
    await t.done;
    await t.w.stop();
    expect(t.seen.map(([, n]) => n)).toEqual([[A], [B, C]]);
  });

  test('a set that failed to apply is handed over again after a backoff, from index 0', async () => {
    let tries = 0;
    const t = watch(
      [
        { index: 5, nodes: [A, B] },
        { index: 5, nodes: [A, B] },
        { index: 6, nodes: [A, B] },
      ],
      () => (tries++ === 0 ? 'failed' : 'applied'),
    );
    await t.done;
    await t.w.stop();
    expect(t.seen.map(([, n]) => n)).toEqual([[A, B], [A, B]]);
    expect(t.sent).toEqual([0, 0, 5, 6]);
  });

  test('agent errors are logged and retried after a backoff; the members that follow are handed over', async () => {
    const t = watch([new Error('connect ECONNREFUSED'), new Error('Consul agent answered 500'), { index: 4, nodes: [A] }]);
    await t.done;
    await t.w.stop();
    expect(t.logs).toEqual([
      expect.stringMatching(/^members of shop-api: connect ECONNREFUSED; retrying in \d+ s$/),
      expect.stringMatching(/^members of shop-api: Consul agent answered 500; retrying in \d+ s$/),
    ]);
    expect(t.seen).toEqual([['shop-api', [A]]]);
    // An error keeps the index it had.
    expect(t.sent).toEqual([0, 0, 0, 4]);
  });

  test('an error names its cause when the request carries one', async () => {
    const t = watch([new Error('GET /v1/health/service/shop-api failed', { cause: new Error('socket hang up') })]);
    await t.done;
    await t.w.stop();
    expect(t.logs).toEqual([expect.stringMatching(/^members of shop-api: socket hang up; retrying in \d+ s$/)]);
  });

  test('a handler that throws is logged and tried again: the watch goes on', async () => {
    let calls = 0;
    const t = watch([{ index: 4, nodes: [A] }, { index: 4, nodes: [A] }], () => {
      if (calls++ === 0) throw new Error('EROFS: read-only file system');
      return 'applied';
    });
    await t.done;
    await t.w.stop();
    expect(t.logs).toEqual(['members of shop-api: EROFS: read-only file system']);
    expect(t.seen.map(([, n]) => n)).toEqual([[A], [A]]);
    expect(t.sent).toEqual([0, 0, 4]);
  });

  test('stop() aborts the query in flight and ends the loop', async () => {
    const t = watch([{ index: 3, nodes: [A] }]);
    await t.done;
    expect(t.wasAborted()).toBe(false);
    await expect(t.w.stop()).resolves.toBeUndefined();
    expect(t.wasAborted()).toBe(true);
    expect(t.sent).toEqual([0, 3]);
    expect(t.logs).toEqual([]);
  });

  describe('with fake timers (a backoff never has to run out)', () => {
    // setImmediate stays real: awaiting it drains every promise job queued before it.
    const flush = () => new Promise<void>((r) => setImmediate(r));
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    test('a failed set waits for a backoff; stop() during it ends the loop, no query after the stop', async () => {
      const t = watch([{ index: 3, nodes: [A] }], () => 'failed', { backoffBaseMs: 60_000 });
      await flush();
      expect(t.seen).toHaveLength(1);
      expect(jest.getTimerCount()).toBe(1);
      let stopped = false;
      const stopping = t.w.stop().then(() => (stopped = true));
      await flush();
      expect(stopped).toBe(true);
      await stopping;
      expect(jest.getTimerCount()).toBe(0);
      expect(t.sent).toEqual([0]);
    });

    test('an agent error waits for a backoff; stop() during it ends the loop', async () => {
      const t = watch([new Error('connect ECONNREFUSED'), { index: 3, nodes: [A] }], undefined, { backoffBaseMs: 4000 });
      await flush();
      // The first backoff is the base, as the log says.
      expect(t.logs).toEqual([`members of shop-api: connect ECONNREFUSED; retrying in ${backoffMs(1, 4000) / 1000} s`]);
      expect(jest.getTimerCount()).toBe(1);
      let stopped = false;
      const stopping = t.w.stop().then(() => (stopped = true));
      await flush();
      expect(stopped).toBe(true);
      await stopping;
      expect(t.sent).toEqual([0]);
      expect(t.seen).toEqual([]);
    });

    // A stop() while the handler applies a set that then fails ends the loop at once: no backoff
    // (up to 30 s) for the helper's shutdown to wait out.
    test('stop() while the handler applies a set that then fails: the loop ends without a backoff', async () => {
      let release!: (o: MembersOutcome) => void;
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      const s = scripted([{ index: 3, nodes: [A] }]);
      const w = new MemberWatch({
        agent: s.agent,
        service: 'shop-api',
        mesh: 'shop',
        log: () => undefined,
        backoffBaseMs: 60_000,
        onMembers: () => {
          entered();
          return new Promise((r) => (release = r));
        },
      });
      w.start();
      await inHandler;
      let stopped = false;
      const stopping = w.stop().then(() => (stopped = true));
      release('failed');
      await flush();
      try {
        expect(stopped).toBe(true);
        expect(jest.getTimerCount()).toBe(0);
      } finally {
        // Let a backoff that was started anyway run out, so nothing outlives the test.
        await jest.runOnlyPendingTimersAsync();
        await stopping;
      }
      expect(s.sent).toEqual([0]);
    });
  });

  test('stop() while the handler applies a set: the set is finished, nothing asked after', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const s = scripted([{ index: 3, nodes: [A] }, { index: 4, nodes: [B] }]);
    const seen: string[][] = [];
    const w = new MemberWatch({
      agent: s.agent,
      service: 'shop-api',
      mesh: 'shop',
      log: () => undefined,
      onMembers: (_svc, nodes) => {
        seen.push(nodes);
        entered();
        return new Promise((r) => (release = () => r('applied')));
      },
    });
    w.start();
    await inHandler;
    const stopped = w.stop();
    release();
    await stopped;
    expect(seen).toEqual([[A]]);
    expect(s.sent).toEqual([0]);
  });
});

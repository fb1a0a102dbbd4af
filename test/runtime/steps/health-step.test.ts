import { EventEmitter } from 'node:events';
import { ConsulError } from '../../../lib/runtime/consul/agent';
import { Registration } from '../../../lib/runtime/epmd/server';
import { LiveRegistration } from '../../../lib/runtime/live-registration';
import { Health, refreshInterval } from '../../../lib/runtime/steps/health-step';
import { validManifest } from '../../fixtures/manifests';

/**
 * A fake agent recording check updates and registrations; its service watch answers only when
 * the test says so (`answer`), as a blocking query does. The EPMD server and proxy are emitters.
 */
function setup(ttl = '15s') {
  const updates: Array<[string, string]> = [];
  const calls: string[] = [];
  const waiters: Array<() => void> = [];
  const pending: Array<(a: { present: boolean; hash: string }) => void> = [];
  const agent = {
    updateTtl: async (id: string, status: string) => {
      updates.push([id, status]);
      calls.push(`update ${id} ${status}`);
      waiters.splice(0).forEach((w) => w());
    },
    registerService: async (d: any) => void calls.push(`register ${d.ID} ${d.Checks.map((c: any) => c.CheckID).join(',')}`),
    registerCheck: async (d: any) => void calls.push(`check ${d.ID} ${d.TCP} ${d.Status}`),
    serviceWatch: (_id: string, hash: string, waitS: number, signal?: AbortSignal) => {
      calls.push(`watch ${hash || '-'} ${waitS}s`);
      waiters.splice(0).forEach((w) => w());
      return new Promise((resolve, reject) => {
        pending.push(resolve);
        signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
      });
    },
  };
  const epmd = Object.assign(new EventEmitter(), { registered: [] as Registration[] });
  const proxy = Object.assign(new EventEmitter(), { pid: 123, restartCount: 0 });
  const m = { ...validManifest(), service: { ...validManifest().service, ttl } };
  const o: any = { manifest: m, agent, log: () => undefined, proxyKind: 'builtin', readyTimeoutMs: 1000 };
  const registration = new LiveRegistration(o, { distPort: 9100, sidecarPort: 21000, upstreams: [] });
  const ctx = { o, node: { registration, epmd, proxy } };
  /** Resolves once the calls satisfy `done`. */
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => waiters.push(r));
  };
  const beamStatus = async () => {
    await until(() => updates.some(([id]) => id === 'shop-orders:beam'));
    return updates.filter(([id]) => id === 'shop-orders:beam').pop()![1];
  };
  const next = () => {
    updates.length = 0;
  };
  /** Answers the oldest watch query in flight. */
  const answer = (a: { present: boolean; hash: string }) => pending.shift()!(a);
  return { ctx, epmd, proxy, updates, calls, beamStatus, next, until, answer, pending };
}

describe('health', () => {
  const reg = (name: string, port: number) => ({
    name,
    port,
    nodeType: 77,
    protocol: 0,
    highestVersion: 6,
    lowestVersion: 5,
    creation: 4,
    extra: Buffer.alloc(0),
  });

  test("passes only when the node's own name registered with the manifest's distribution port", async () => {
    const { ctx, epmd, beamStatus, next } = setup();
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      epmd.emit('registered', reg('orders', 9999));
      expect(await beamStatus()).toBe('critical');
      next();
      epmd.emit('registered', reg('someone-else', 9100));
      epmd.emit('registered', reg('orders', 9100));
      expect(await beamStatus()).toBe('passing');
      next();
      epmd.emit('unregistered', reg('orders', 9100));
      expect(await beamStatus()).toBe('critical');
    } finally {
      await h.stop();
    }
  });

  test('a BEAM that registered before health started (during the proxy wait) passes at start; a wrong port does not', async () => {
    const { ctx, epmd, beamStatus, calls } = setup();
    epmd.registered.push(reg('orders', 9100));
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      expect(await beamStatus()).toBe('passing');
      expect(calls).toContain('check shop-orders:dist 127.0.0.1:9100 passing');
    } finally {
      await h.stop();
    }
    const other = setup();
    other.epmd.registered.push(reg('orders', 9999));
    const h2 = new Health(other.ctx.o, other.ctx.node);
    await h2.start();
    try {
      expect(await other.beamStatus()).toBe('critical');
    } finally {
      await h2.stop();
    }
  });

  test('one check covers BEAM and proxy: a dead proxy makes it critical, naming the proxy; no other check is sent', async () => {
    const { ctx, epmd, proxy, updates, beamStatus, next } = setup();
    const outputs: string[] = [];
    const update = ctx.o.agent.updateTtl;
    ctx.o.agent.updateTtl = async (id: string, status: string, output: string) => {
      outputs.push(output);
      await update(id, status);
    };
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      epmd.emit('registered', reg('orders', 9100));
      expect(await beamStatus()).toBe('passing');
      expect(outputs.pop()).toBe('orders@orders-1.shop.test registered on 127.0.0.1:9100; builtin proxy pid 123 accepting');
      next();
      proxy.emit('exit', null, 'SIGKILL');
      expect(await beamStatus()).toBe('critical');
      expect(outputs.pop()).toBe('sidecar proxy down (restarts so far: 0)');
      expect(new Set(updates.map(([id]) => id))).toEqual(new Set(['shop-orders:beam']));
    } finally {
      await h.stop();
    }
  });

  test('each change of status is counted once (metrics), not each report', async () => {
    const { ctx, epmd, proxy, beamStatus, next } = setup();
    const seen: string[] = [];
    ctx.o.metrics = { healthState: (status: string) => seen.push(status) };
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      epmd.emit('registered', reg('orders', 9100));
      expect(await beamStatus()).toBe('passing');
      next();
      proxy.emit('exit', null, 'SIGKILL');
      expect(await beamStatus()).toBe('critical');
      next();
      epmd.emit('unregistered', reg('orders', 9100));
      expect(await beamStatus()).toBe('critical');
      expect(seen).toEqual(['passing', 'critical']);
    } finally {
      await h.stop();
    }
  });

  test('after stop nothing is reported', async () => {
    const { ctx, epmd } = setup();
    const updates: string[] = [];
    ctx.o.agent.updateTtl = async (id: string) => void updates.push(id);
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    await h.stop();
    epmd.emit('registered', reg('orders', 9100));
    await new Promise((r) => setImmediate(r));
    expect(updates).toEqual([]);
  });

  test('drain: the check critical with the reason, after any report in flight; nothing reported after', async () => {
    const { ctx, epmd } = setup();
    const seen: string[] = [];
    // A slow agent: the passing report is still on its way when the drain begins.
    ctx.o.agent.updateTtl = async (_id: string, status: string, output: string) => {
      seen.push(`send ${status}`);
      if (status === 'passing') await new Promise((r) => setTimeout(r, 100));
      seen.push(`took ${status} ${output}`);
    };
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    epmd.emit('registered', reg('orders', 9100));
    await h.drain('stop requested (SIGTERM)');
    expect(seen.filter((x) => x.startsWith('took')).map((x) => x.split(' ').slice(0, 2).join(' '))).toEqual(['took passing', 'took critical']);
    expect(seen[seen.length - 1]).toBe('took critical draining: stop requested (SIGTERM)');
    const before = seen.length;
    epmd.emit('unregistered', reg('orders', 9100));
    ctx.node.proxy.emit('exit');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(before);
  });

  test("the BEAM registered: the agent's TCP check on it, once; then only a blocking watch: an idle helper sends nothing more", async () => {
    const { ctx, epmd, calls, until, answer, pending } = setup('5m');
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      epmd.emit('registered', reg('orders', 9100));
      await until(() => calls.includes('update shop-orders:beam passing'));
      expect(ctx.node.registration.distCheck).toBe(true);
      epmd.emit('unregistered', reg('orders', 9100));
      epmd.emit('registered', reg('orders', 9100));
      await until(() => calls.filter((c) => c === 'update shop-orders:beam passing').length === 2);
      // The first answer (at once, no hash) right after boot does not resend what was just sent.
      await until(() => pending.length === 1);
      answer({ present: true, hash: 'h1' });
      await until(() => calls.some((c) => c.startsWith('watch h1')));
      expect(calls).toEqual([
        'watch - 100s',
        'check shop-orders:dist 127.0.0.1:9100 passing',
        'update shop-orders:beam passing',
        'update shop-orders:beam critical',
        'update shop-orders:beam passing',
        'watch h1 100s',
      ]);
    } finally {
      await h.stop();
    }
  });

  test('a watch answer refreshes the TTL once half the refresh interval (a third of the TTL) has passed since the last update', async () => {
    const { ctx, epmd, calls, until, answer, pending } = setup('5m');
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    const h = new Health(ctx.o, ctx.node);
    try {
      await h.start();
      epmd.emit('registered', reg('orders', 9100));
      await until(() => calls.includes('update shop-orders:beam passing') && pending.length === 1);
      const updates = () => calls.filter((c) => c.startsWith('update')).length;
      now += 49_000; // under half of 100 s: a definition change, say, is no reason to refresh
      answer({ present: true, hash: 'h1' });
      await until(() => pending.length === 1 && calls.some((c) => c.startsWith('watch h1')));
      expect(updates()).toBe(1);
      now += 51_000;
      answer({ present: true, hash: 'h1' });
      await until(() => updates() === 2);
      expect(calls.filter((c) => c.startsWith('update'))).toEqual(['update shop-orders:beam passing', 'update shop-orders:beam passing']);
    } finally {
      await h.stop();
      clock.mockRestore();
    }
  });

  test('the agent lost the service: registered again with both checks, the status in force sent; ' +
    'a 404 on an update at the same time shares that registration', async () => {
    const { ctx, epmd, calls, until, answer, pending } = setup();
    const update = ctx.o.agent.updateTtl;
    let lost = true;
    ctx.o.agent.updateTtl = async (id: string, status: string) => {
      if (lost) throw new ConsulError(404, `/v1/agent/check/update/${id}`, 'CheckID "shop-orders:beam" does not have associated TTL');
      await update(id, status);
    };
    const register = ctx.o.agent.registerService;
    ctx.o.agent.registerService = async (d: any) => {
      lost = false;
      await new Promise((r) => setTimeout(r, 20));
      await register(d);
    };
    const h = new Health(ctx.o, ctx.node);
    await h.start();
    try {
      await until(() => pending.length === 1);
      epmd.emit('registered', reg('orders', 9100));
      answer({ present: false, hash: '' });
      await until(() => calls.includes('update shop-orders:beam passing'));
      expect(calls.filter((c) => c.startsWith('register'))).toEqual(['register shop-orders shop-orders:beam,shop-orders:dist']);
    } finally {
      await h.stop();
    }
  });

  test('after an outage the first answer sends the status at once ' +
    '(an agent restarted with its state restores an expired TTL as critical)', async () => {
    const { ctx, epmd, calls, until, answer, pending } = setup('5m');
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => 1_000_000); // no time passes: no refresh is due
    const watch = ctx.o.agent.serviceWatch;
    let outage = false;
    ctx.o.agent.serviceWatch = (id: string, hash: string, waitS: number, signal?: AbortSignal) => {
      if (!outage) return watch(id, hash, waitS, signal);
      outage = false;
      calls.push('watch failed');
      return Promise.reject(Object.assign(new Error('request failed'), { cause: new Error('socket hang up') }));
    };
    const h = new Health(ctx.o, ctx.node);
    try {
      await h.start();
      epmd.emit('registered', reg('orders', 9100));
      await until(() => calls.includes('update shop-orders:beam passing') && pending.length === 1);
      outage = true;
      answer({ present: true, hash: 'h1' }); // no update (nothing is due); the query with h1 fails
      await until(() => pending.length === 1); // the query after the failed one (backoff 0.5 s)
      answer({ present: true, hash: 'h2' });
      await until(() => calls.filter((c) => c.startsWith('update')).length === 2);
      expect(calls.slice(2)).toEqual(['update shop-orders:beam passing', 'watch failed', 'watch - 100s', 'update shop-orders:beam passing']);
    } finally {
      await h.stop();
      clock.mockRestore();
    }
  });

  test("the refresh interval: a third of the TTL, at least 1 s, at most a blocking query's longest wait (10 min)", () => {
    expect(refreshInterval(300_000)).toBe(100_000);
    expect(refreshInterval(15_000)).toBe(5_000);
    expect(refreshInterval(1_000)).toBe(1_000);
    expect(refreshInterval(3 * 3600_000)).toBe(600_000);
  });
});

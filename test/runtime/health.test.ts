import { EventEmitter } from 'node:events';
import { Health } from '../../lib/runtime/health';
import { validManifest } from '../fixtures/manifests';

/** A fake agent recording check updates; the EPMD server and proxy are plain emitters here. */
function setup() {
  const updates: Array<[string, string]> = [];
  const waiters: Array<() => void> = [];
  const agent = {
    updateTtl: async (id: string, status: string) => {
      updates.push([id, status]);
      waiters.splice(0).forEach((w) => w());
    },
    registerService: async () => undefined,
  };
  const epmd = new EventEmitter();
  const proxy = Object.assign(new EventEmitter(), { pid: 123, restartCount: 0 });
  const m = validManifest();
  const ctx: any = { o: { manifest: m, agent, log: () => undefined, proxyKind: 'builtin', readyTimeoutMs: 1000 }, signal: new AbortController().signal, ports: { epmdPort: 4370, distPort: 9100, sidecarPort: 21000, upstreams: [] }, epmd, proxy };
  const beamStatus = async () => {
    if (!updates.some(([id]) => id === 'shop-orders:beam')) await new Promise<void>((r) => waiters.push(r));
    return updates.filter(([id]) => id === 'shop-orders:beam').pop()![1];
  };
  const next = () => {
    updates.length = 0;
  };
  return { ctx, epmd, proxy, updates, beamStatus, next };
}

describe('health', () => {
  const reg = (name: string, port: number) => ({ name, port, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, creation: 4, extra: Buffer.alloc(0) });

  test("passes only when the node's own name registered with the manifest's distribution port", async () => {
    const { ctx, epmd, beamStatus, next } = setup();
    const h = new Health(ctx);
    h.start();
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
      h.stop();
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
    const h = new Health(ctx);
    h.start();
    try {
      epmd.emit('registered', reg('orders', 9100));
      expect(await beamStatus()).toBe('passing');
      expect(outputs.pop()).toBe('orders@orders-1.shop.test registered on 127.0.0.1:9100; builtin proxy pid 123 accepting');
      next();
      proxy.emit('exit', null, 'SIGKILL');
      expect(await beamStatus()).toBe('critical');
      expect(outputs.pop()).toBe('sidecar proxy down (restart 0)');
      expect(new Set(updates.map(([id]) => id))).toEqual(new Set(['shop-orders:beam']));
    } finally {
      h.stop();
    }
  });

  test('after stop nothing is reported', async () => {
    const { ctx, epmd } = setup();
    const updates: string[] = [];
    ctx.o.agent.updateTtl = async (id: string) => void updates.push(id);
    const h = new Health(ctx);
    h.start();
    h.stop();
    epmd.emit('registered', reg('orders', 9100));
    await new Promise((r) => setImmediate(r));
    expect(updates).toEqual([]);
  });
});

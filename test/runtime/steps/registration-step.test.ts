import { spawnSync } from 'node:child_process';
import { probeFreePort } from '../../../lib/runtime/ports';
import { HELPER_PID_META } from '../../../lib/runtime/registration';
import { InstanceConflict } from '../../../lib/runtime/state-dir';
import { registrationStep } from '../../../lib/runtime/steps/registration-step';
import { bootContext } from '../../fixtures/context';
import { standInHelper } from '../../util';

// The port the fake agent assigns: free on this host (the step proves it free).
let assigned = 0;
beforeAll(async () => {
  assigned = await probeFreePort('0.0.0.0');
});

/** A fake agent: one service table, the sidecar's ports assigned as an agent would. */
function fakeAgent(existing?: { Meta: Record<string, string> }) {
  const calls: string[] = [];
  const services = new Map<string, any>(existing ? [['shop-orders', existing]] : []);
  return {
    calls,
    agent: {
      service: async (id: string) => services.get(id),
      registerService: async (def: any) => {
        calls.push(`register ${def.ID}`);
        services.set(def.ID, def);
        services.set(`${def.ID}-sidecar-proxy`, { Port: def.Connect.SidecarService.Port ?? assigned, Address: '', Proxy: { Upstreams: def.Connect.SidecarService.Proxy.Upstreams } });
      },
      deregisterService: async (id: string) => void calls.push(`deregister ${id}`),
    },
  };
}

describe('registration step', () => {
  const ports = { epmdPort: 0, distPort: 9100, sidecarPort: 0, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: 19001 }, { node: 'stock@stock-1.shop.test', service: 'shop-stock', address: '127.0.0.3', port: 19002 }] };

  test('registers with the helper pid and reads back the ports the agent put in force; stop deregisters', async () => {
    const { agent, calls } = fakeAgent();
    const ctx = bootContext({ agent });
    ctx.ports = ports;
    await registrationStep.start(ctx);
    expect(ctx.ports.sidecarPort).toBe(assigned);
    expect((await agent.service('shop-orders')).Meta[HELPER_PID_META]).toBe(String(process.pid));
    await registrationStep.stop(ctx);
    expect(calls).toEqual(['register shop-orders', 'deregister shop-orders']);
  });

  test('a registration by a live helper is refused untouched: no register, and no deregister on undo', async () => {
    const other = await standInHelper();
    try {
      const { agent, calls } = fakeAgent({ Meta: { [HELPER_PID_META]: String(other.pid) } });
      const ctx = bootContext({ agent });
      ctx.ports = ports;
      await expect(registrationStep.start(ctx)).rejects.toThrow(new InstanceConflict(`already running: shop-orders is registered with the agent by helper pid ${other.pid}; stop it first (this run changed nothing)`));
      await registrationStep.stop(ctx);
      expect(calls).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a registration left by a helper that is gone is replaced', async () => {
    const { agent, calls } = fakeAgent({ Meta: { [HELPER_PID_META]: String(spawnSync('true').pid) } });
    const ctx = bootContext({ agent });
    ctx.ports = ports;
    await registrationStep.start(ctx);
    expect(calls).toEqual(['register shop-orders']);
  });
});

import { spawnSync } from 'node:child_process';
import { probeFreePort } from '../../../lib/runtime/ports';
import { HELPER_PID_META } from '../../../lib/runtime/registration';
import { InstanceConflict } from '../../../lib/runtime/state-dir';
import { RegistrationStep } from '../../../lib/runtime/steps/registration-step';
import { picked, runOptions } from '../../fixtures/run-options';
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
        services.set(`${def.ID}-sidecar-proxy`, {
          Port: def.Connect.SidecarService.Port ?? assigned,
          Address: '',
          Proxy: { Upstreams: def.Connect.SidecarService.Proxy.Upstreams },
        });
      },
      deregisterService: async (id: string) => void calls.push(`deregister ${id}`),
    },
  };
}

describe('registration step', () => {
  const ports = {
    distPort: 9100,
    sidecarPort: 0,
    upstreams: [
      { node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: 19001 },
      { node: 'stock@stock-1.shop.test', service: 'shop-stock', address: '127.0.0.3', port: 19002 },
    ],
  };

  test('registers with the helper pid and reads back the ports the agent put in force; stop deregisters', async () => {
    const { agent, calls } = fakeAgent();
    const step = new RegistrationStep(runOptions({ agent }), { ports: picked(ports) });
    await step.start();
    expect(step.registration.ports.sidecarPort).toBe(assigned);
    expect((await agent.service('shop-orders')).Meta[HELPER_PID_META]).toBe(String(process.pid));
    await step.stop();
    expect(calls).toEqual(['register shop-orders', 'deregister shop-orders']);
  });

  test('a registration by a live helper is refused untouched: no register, and no deregister on undo', async () => {
    const other = await standInHelper();
    try {
      const { agent, calls } = fakeAgent({ Meta: { [HELPER_PID_META]: String(other.pid) } });
      const step = new RegistrationStep(runOptions({ agent }), { ports: picked(ports) });
      await expect(step.start()).rejects.toThrow(
        new InstanceConflict(
          `already running: shop-orders is registered with the agent by helper pid ${other.pid}; stop it first (this run changed nothing)`,
        ),
      );
      await step.stop();
      expect(calls).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a registration left by a helper that is gone is removed, then registered afresh (its checks\' stale status goes with it)', async () => {
    const { agent, calls } = fakeAgent({ Meta: { [HELPER_PID_META]: String(spawnSync('true').pid) } });
    const step = new RegistrationStep(runOptions({ agent }), { ports: picked(ports) });
    await step.start();
    expect(calls).toEqual(['deregister shop-orders', 'register shop-orders']);
  });
});

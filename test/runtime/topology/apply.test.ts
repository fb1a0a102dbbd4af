import * as fs from 'node:fs';
import * as net from 'node:net';
import { validateManifest } from '../../../lib/manifest/validate';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { probeFreePort } from '../../../lib/runtime/ports';
import { AddressBook } from '../../../lib/runtime/topology/addresses';
import { applyVersion, LiveNode } from '../../../lib/runtime/topology/apply';
import { LiveFiles, versionOf } from '../../../lib/runtime/topology/outputs';
import { planUpstreams } from '../../../lib/runtime/topology/versions';
import { validManifest } from '../../fixtures/manifests';
import { registered, runOptions } from '../../fixtures/run-options';

/**
 * A node running with one upstream (billing) that a new version gives a second (stock). This
 * process stands in for the proxy: it holds the listeners, and opens those of each registration
 * when `opens` (as the built-in proxy does on the agent's update).
 */
async function setup(opens: boolean) {
  const next = validateManifest(validManifest());
  const boot = { ...next, upstreams: next.upstreams.slice(0, 1) };
  const servers: net.Server[] = [];
  const listen = (address: string, port: number) => new Promise<void>((r) => servers.push(net.createServer().listen(port, address, () => r())));
  const registrations: any[] = [];
  const agent = {
    registerService: async (d: any) => {
      registrations.push(d);
      const wanted = d.Connect.SidecarService.Proxy.Upstreams.map((u: any) => [u.LocalBindAddress, u.LocalBindPort]);
      const open = new Set(servers.map((s) => `${(s.address() as net.AddressInfo).address}:${(s.address() as net.AddressInfo).port}`));
      if (opens) for (const [a, p] of wanted) if (!open.has(`${a}:${p}`)) await listen(a, p);
    },
    service: async () => {
      const last = registrations[registrations.length - 1].Connect.SidecarService;
      return { Port: last.Port, Address: '', Proxy: { Upstreams: last.Proxy.Upstreams } };
    },
  };
  const o = runOptions({ agent, manifest: boot });
  (o as any).readyTimeoutMs = 300;
  o.stateDir.create();
  o.stateDir.lock();
  const up = await probeFreePort('127.0.0.2');
  const pub = await probeFreePort('0.0.0.0');
  await listen('127.0.0.2', up);
  await listen('0.0.0.0', pub);
  const { registration } = registered(o, { distPort: 9100, sidecarPort: pub, upstreams: [{ ...boot.upstreams[0], port: up }] });
  const events: string[] = [];
  const addresses: string[] = [];
  const routes: unknown[] = [];
  const proxy = { pid: process.pid, restartCount: 0, start: () => void events.push('start'), stop: async () => void events.push('stop') };
  const epmd = { addAddress: async (a: string) => void addresses.push(a), setPeers: (p: unknown) => void routes.push(p) };
  const dns = { port: 5353, setHosts: () => undefined };
  const files = new LiveFiles(o.stateDir, { registration, epmdPort: 4370, dns }, versionOf(boot, 'kv:k'));
  const node: LiveNode = { o, registration, epmd, proxy, files };
  const book = new AddressBook('orders-1.shop.test');
  book.assign([{ host: 'billing-1.shop.test', preferred: '127.0.0.2' }]);
  const plan = planUpstreams(boot, registration.ports.upstreams, next, book);
  const close = () => {
    servers.forEach((s) => s.close());
    o.stateDir.remove();
  };
  return { o, node, next, boot, plan, registrations, events, addresses, routes, up, servers, close };
}

const upstreamsOf = (d: any) => d.Connect.SidecarService.Proxy.Upstreams.map((u: any) => u.DestinationName);

describe('applyVersion', () => {
  test('a new upstream: registered, its listener proven up, then EPMD routes, the registration in force and the files switch', async () => {
    const { o, node, next, plan, registrations, events, addresses, routes, up, close } = await setup(true);
    try {
      await applyVersion(node, next, plan);
      expect(addresses).toEqual(['127.0.0.2', '127.0.0.3']);
      expect(registrations.map(upstreamsOf)).toEqual([['shop-billing', 'shop-stock']]);
      const stock = node.registration.ports.upstreams[1];
      expect(stock).toMatchObject({ service: 'shop-stock', address: '127.0.0.3' });
      expect(stock.port).toBeGreaterThan(0);
      expect(routes).toEqual([
        [
          { address: '127.0.0.2', alive: 'billing', port: up },
          { address: '127.0.0.3', alive: 'stock', port: stock.port },
        ],
      ]);
      expect(node.registration.manifest).toBe(next);
      expect(o.stateDir.readState().upstreams.map((u) => u.port)).toEqual([up, stock.port]);
      expect(fs.readFileSync(o.stateDir.hostsPath, 'utf8')).toContain('127.0.0.3 stock-1.shop.test');
      expect(events).toEqual([]);
    } finally {
      close();
    }
  });

  test('only the new listeners are waited for: the kept ones were proven when they were added', async () => {
    const { o, node, next, plan, events, up, servers, close } = await setup(true);
    try {
      // Once the registration is in, the kept upstream's listener goes: the change does not wait for it.
      const agent = o.agent as any;
      const register = agent.registerService;
      agent.registerService = async (d: unknown) => {
        await register(d);
        const kept = servers.splice(servers.findIndex((s) => (s.address() as net.AddressInfo).port === up), 1)[0];
        await new Promise((r) => kept.close(r));
      };
      await applyVersion(node, next, plan);
      expect(events).toEqual([]);
      expect(node.registration.ports.upstreams.map((u) => u.service)).toEqual(['shop-billing', 'shop-stock']);
    } finally {
      close();
    }
  });

  test('a proxy that does not open the new listener is restarted once; still not: the old registration restored, nothing switched', async () => {
    const { o, node, next, boot, plan, registrations, events, routes, close } = await setup(false);
    const before = node.registration.ports;
    try {
      await expect(applyVersion(node, next, plan)).rejects.toThrow(RuntimeFailure);
      expect(events).toEqual(['stop', 'start']);
      expect(o.logs).toEqual([
        expect.stringMatching(
          /^the proxy did not open the new listeners \(proxy not ready .*upstream shop-stock 127\.0\.0\.3:\d+.*\); restarting the proxy$/,
        ),
      ]);
      expect(registrations.map(upstreamsOf)).toEqual([['shop-billing', 'shop-stock'], ['shop-billing']]);
      expect(registrations[1].Connect.SidecarService.Proxy.Upstreams[0].LocalBindPort).toBe(before.upstreams[0].port);
      expect(routes).toEqual([]);
      expect(node.registration.manifest).toBe(boot);
      expect(node.registration.ports).toBe(before);
      expect(fs.existsSync(o.stateDir.hostsPath)).toBe(false);
    } finally {
      close();
    }
  });
});

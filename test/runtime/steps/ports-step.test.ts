import * as net from 'node:net';
import { ManifestUpstream } from '../../../lib/manifest/types';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { isFree } from '../../../lib/runtime/ports';
import { PortsStep } from '../../../lib/runtime/steps/ports-step';
import { validManifest } from '../../fixtures/manifests';
import { runOptions } from '../../fixtures/run-options';

describe('ports step', () => {
  test('picks free ports for zeros; the sidecar port stays 0 until the registration', async () => {
    const step = new PortsStep(runOptions());
    await step.start();
    try {
      const { ports } = step.picks;
      expect(ports.distPort).toBeGreaterThan(0);
      expect(ports.upstreams.map((u) => u.port).every((p) => p > 0)).toBe(true);
      expect(ports.sidecarPort).toBe(0);
      expect(step.picks.adminBind).toBeUndefined();
    } finally {
      await step.stop();
    }
  });

  test('a fixed port that is taken fails naming the field, before anything is registered', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      const taken = (s.address() as net.AddressInfo).port;
      const m = validManifest();
      m.epmdPort = taken;
      const step = new PortsStep(runOptions({ manifest: m }));
      await expect(step.start()).rejects.toThrow(new RuntimeFailure(`epmdPort: port ${taken} on 127.0.0.1 is already in use`));
      // The runner undoes a step that failed half-way: the picks it held are released.
      await step.stop();
      expect([...step.held.dist, ...step.held.proxy]).toEqual([]);
      expect(() => step.picks).toThrow("boot step 'ports' has not started: its result is not there yet");
    } finally {
      s.close();
    }
  });

  test('a same-host upstream on 127.0.0.1 never gets the dist port (the proxy would bind it before the BEAM)', async () => {
    const m = validManifest();
    m.upstreams = m.upstreams.map((u: ManifestUpstream) => ({ ...u, address: '127.0.0.1', port: 0 }));
    // Every draw lands on the same port: the first is the dist port's; the upstreams must step over it.
    const draws = [0.25, 0.25, 0.25, 0.5, 0.25, 0.75, 0.25, 0.9];
    const spy = jest.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0.6);
    try {
      const step = new PortsStep(runOptions({ manifest: m }));
      await step.start();
      await step.stop();
      const { ports } = step.picks;
      const all = [ports.distPort, ...ports.upstreams.map((u) => u.port)];
      expect(new Set(all).size).toBe(all.length);
    } finally {
      spy.mockRestore();
    }
  });

  test('picks stay held until their consumer takes them; stop releases what was not handed over', async () => {
    const step = new PortsStep(runOptions());
    await step.start();
    const { ports, held } = step.picks;
    const upstream = ports.upstreams[0];
    expect(await isFree('127.0.0.1', ports.distPort)).toBe(false);
    expect(await isFree(upstream.address, upstream.port)).toBe(false);
    await held.release('proxy');
    expect(await isFree(upstream.address, upstream.port)).toBe(true);
    expect(await isFree('127.0.0.1', ports.distPort)).toBe(false);
    await step.stop();
    expect(await isFree('127.0.0.1', ports.distPort)).toBe(true);
  });

  test('with Envoy: an admin listener picked and held for the proxy', async () => {
    const o = runOptions();
    (o as any).proxyKind = 'envoy';
    const step = new PortsStep(o);
    await step.start();
    try {
      const admin = Number(step.picks.adminBind?.split(':')[1]);
      expect(step.picks.adminBind).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await isFree('127.0.0.1', admin)).toBe(false);
    } finally {
      await step.stop();
    }
  });
});

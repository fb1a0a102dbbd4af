import * as net from 'node:net';
import { ManifestUpstream } from '../../../lib/manifest/types';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { isFree } from '../../../lib/runtime/ports';
import { portsStep, releaseHeld } from '../../../lib/runtime/steps/ports-step';
import { bootContext } from '../../fixtures/context';
import { validManifest } from '../../fixtures/manifests';

describe('ports step', () => {
  test('picks free ports for zeros; the EPMD port stays 0 until the EPMD step', async () => {
    const ctx = bootContext();
    await portsStep.start(ctx);
    try {
      expect(ctx.ports!.distPort).toBeGreaterThan(0);
      expect(ctx.ports!.upstreams.map((u) => u.port).every((p) => p > 0)).toBe(true);
      expect(ctx.ports!.epmdPort).toBe(0);
      expect(ctx.ports!.sidecarPort).toBe(0);
    } finally {
      await portsStep.stop(ctx);
    }
  });

  test('a fixed port that is taken fails naming the field, before anything is registered', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      const taken = (s.address() as net.AddressInfo).port;
      const m = validManifest();
      m.epmdPort = taken;
      const ctx = bootContext({ manifest: m });
      await expect(portsStep.start(ctx)).rejects.toThrow(new RuntimeFailure(`epmdPort: port ${taken} on 127.0.0.1 is already in use`));
      // The runner undoes a step that failed half-way: the picks it held are released.
      await portsStep.stop(ctx);
      expect([...ctx.held!.dist, ...ctx.held!.proxy]).toEqual([]);
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
      const ctx = bootContext({ manifest: m });
      await portsStep.start(ctx);
      await portsStep.stop(ctx);
      const ports = [ctx.ports!.distPort, ...ctx.ports!.upstreams.map((u) => u.port)];
      expect(new Set(ports).size).toBe(ports.length);
    } finally {
      spy.mockRestore();
    }
  });

  test('picks stay held until their consumer takes them; stop releases what was not handed over', async () => {
    const ctx = bootContext();
    await portsStep.start(ctx);
    const upstream = ctx.ports!.upstreams[0];
    expect(await isFree('127.0.0.1', ctx.ports!.distPort)).toBe(false);
    expect(await isFree(upstream.address, upstream.port)).toBe(false);
    await releaseHeld(ctx, 'proxy');
    expect(await isFree(upstream.address, upstream.port)).toBe(true);
    expect(await isFree('127.0.0.1', ctx.ports!.distPort)).toBe(false);
    await portsStep.stop(ctx);
    expect(await isFree('127.0.0.1', ctx.ports!.distPort)).toBe(true);
  });
});

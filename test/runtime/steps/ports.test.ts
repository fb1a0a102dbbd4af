import * as net from 'node:net';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { portsStep } from '../../../lib/runtime/steps/ports';
import { bootContext } from '../../fixtures/context';
import { validManifest } from '../../fixtures/manifests';

describe('ports step', () => {
  test('picks free ports for zeros; the EPMD port stays 0 until the EPMD step', async () => {
    const ctx = bootContext();
    await portsStep.start(ctx);
    expect(ctx.ports!.distPort).toBeGreaterThan(0);
    expect(ctx.ports!.upstreams.map((u) => u.port).every((p) => p > 0)).toBe(true);
    expect(ctx.ports!.epmdPort).toBe(0);
    expect(ctx.ports!.sidecarPort).toBe(0);
  });

  test('a fixed port that is taken fails naming the field, before anything is registered', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      const taken = (s.address() as net.AddressInfo).port;
      const m = validManifest();
      m.epmdPort = taken;
      await expect(portsStep.start(bootContext({ manifest: m }))).rejects.toThrow(new RuntimeFailure(`epmdPort: port ${taken} on 127.0.0.1 is already in use`));
    } finally {
      s.close();
    }
  });
});

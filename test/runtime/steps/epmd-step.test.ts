import * as net from 'node:net';
import { decodePort2Response, encodeAlive2Request, encodePortPlease2Request } from '../../../lib/runtime/epmd/codec';
import { epmdGuardWarnings } from '../../../lib/runtime/epmd-guard';
import { SidecarReadiness } from '../../../lib/runtime/steps/boot-step';
import { EpmdStep } from '../../../lib/runtime/steps/epmd-step';
import { registered, runOptions, somePorts } from '../../fixtures/run-options';

function lookup(address: string, port: number, name: string): Promise<ReturnType<typeof decodePort2Response>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: address, port }, () => s.write(encodePortPlease2Request(name)));
    s.on('data', (c) => chunks.push(c));
    s.once('error', reject);
    s.once('close', (hadError) => { if (!hadError) resolve(decodePort2Response(Buffer.concat(chunks))); });
  });
}

describe('epmd step', () => {
  test("serves the final upstream ports on each peer host's address and records its port; stop closes it", async () => {
    const o = runOptions();
    const sidecar = new SidecarReadiness();
    sidecar.end();
    const step = new EpmdStep(o, { register: registered(o, somePorts()), sidecar });
    await step.start();
    const port = step.server.port;
    try {
      expect(port).toBeGreaterThan(0);
      expect((await lookup('127.0.0.2', port, 'billing')).info!.port).toBe(19001);
      expect(o.logs).toContain(`epmd :${port} on 127.0.0.1, 127.0.0.2 (libuv handles)`);
    } finally {
      await step.stop();
    }
    await expect(lookup('127.0.0.2', port, 'billing')).rejects.toThrow(/ECONNREFUSED/);
  });

  test('peer lookups wait from its start until the sidecar is ready (the BEAM is spawned before the proxy)', async () => {
    const o = runOptions();
    const sidecar = new SidecarReadiness();
    const step = new EpmdStep(o, { register: registered(o, somePorts()), sidecar });
    await step.start();
    try {
      let answered = false;
      const answer = lookup('127.0.0.2', step.server.port, 'billing').then((r) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 200));
      expect(answered).toBe(false);
      sidecar.end();
      expect((await answer).info!.port).toBe(19001);
    } finally {
      await step.stop();
    }
  });

  test("the host's port 4369 checked once the BEAM registered, not before: the boot's path does not read the socket tables", async () => {
    const o = runOptions();
    const sidecar = new SidecarReadiness();
    sidecar.end();
    const step = new EpmdStep(o, { register: registered(o, somePorts()), sidecar });
    await step.start();
    const beam = new net.Socket();
    try {
      const before = o.logs.length;
      await new Promise((r) => setTimeout(r, 1200));
      expect(o.logs.slice(before)).toEqual([]);
      await new Promise<void>((resolve, reject) => {
        beam.connect({ host: '127.0.0.1', port: step.server.port }, () =>
          beam.write(encodeAlive2Request({ port: 9100, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'orders' })),
        );
        beam.once('data', () => resolve());
        beam.once('error', reject);
      });
      expect(o.logs.slice(before)).toEqual([]);
      const warned = epmdGuardWarnings().map((w) => `warning: ${w}`);
      await new Promise((r) => setTimeout(r, 1200));
      expect(o.logs.slice(before)).toEqual(warned);
    } finally {
      beam.destroy();
      await step.stop();
    }
  });
});

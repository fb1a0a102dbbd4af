import * as net from 'node:net';
import { decodePort2Response, encodePortPlease2Request } from '../../../lib/runtime/epmd/codec';
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
    const step = new EpmdStep(o, { register: registered(o, somePorts()) });
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
});

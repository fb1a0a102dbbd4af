import * as net from 'node:net';
import { decodePort2Response, encodePortPlease2Request } from '../../../lib/runtime/epmd/codec';
import { epmdStep } from '../../../lib/runtime/steps/epmd-step';
import { bootContext } from '../../fixtures/context';

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
    const ctx = bootContext();
    ctx.ports = { epmdPort: 0, distPort: 9100, sidecarPort: 21000, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: 19001 }] };
    await epmdStep.start(ctx);
    try {
      expect(ctx.ports.epmdPort).toBe(ctx.epmd!.port);
      expect((await lookup('127.0.0.2', ctx.ports.epmdPort, 'billing')).info!.port).toBe(19001);
      expect(ctx.logs).toContain(`epmd :${ctx.ports.epmdPort} on 127.0.0.1, 127.0.0.2 (libuv handles)`);
    } finally {
      await epmdStep.stop(ctx);
    }
    await expect(lookup('127.0.0.2', ctx.ports.epmdPort, 'billing')).rejects.toThrow(/ECONNREFUSED/);
  });
});

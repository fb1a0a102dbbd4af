import * as net from 'node:net';
import { decodeResponse, encodeQuery, TYPE_A } from '../../../lib/runtime/dns/codec';
import { RuntimeFailure } from '../../../lib/runtime/errors';
import { DnsStep } from '../../../lib/runtime/steps/dns-step';
import { registered, runOptions, somePorts } from '../../fixtures/run-options';

function query(port: number, name: string): Promise<ReturnType<typeof decodeResponse>> {
  return new Promise((resolve, reject) => {
    const q = encodeQuery(1, name, TYPE_A);
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(Buffer.concat([Buffer.from([0, q.length]), q])));
    s.once('data', (c) => { s.destroy(); resolve(decodeResponse(c.subarray(2))); });
    s.once('error', reject);
  });
}

describe('dns step', () => {
  test("answers the boot's host map on a free loopback port; stop closes it", async () => {
    const o = runOptions();
    const step = new DnsStep(o, { register: registered(o, somePorts()) });
    await step.start();
    const port = step.server.port;
    try {
      expect(port).toBeGreaterThan(0);
      expect((await query(port, 'billing-1.shop.test')).answers[0].address).toBe('127.0.0.2');
      expect((await query(port, 'orders-1.shop.test')).answers[0].address).toBe('127.0.0.1');
      expect(o.logs).toContain(`dns :${port} on 127.0.0.1 (tcp)`);
    } finally {
      await step.stop();
    }
    await expect(query(port, 'billing-1.shop.test')).rejects.toThrow(/ECONNREFUSED/);
  });

  test('a responder that cannot listen fails the step with a RuntimeFailure naming it; stop copes', async () => {
    const o = runOptions();
    const step = new DnsStep(o, { register: registered(o, somePorts({ upstreams: [] })) });
    const listen = jest.spyOn(net.Server.prototype, 'listen').mockImplementationOnce(function (this: net.Server) {
      process.nextTick(() => this.emit('error', Object.assign(new Error('listen EACCES: permission denied 127.0.0.1'), { code: 'EACCES' })));
      return this;
    });
    try {
      const failed = step.start();
      await expect(failed).rejects.toThrow(RuntimeFailure);
      await expect(failed).rejects.toThrow(/^dns: cannot listen on 127.0.0.1 for the BEAM's host lookups: listen EACCES/);
    } finally {
      listen.mockRestore();
    }
    await step.stop();
  });
});

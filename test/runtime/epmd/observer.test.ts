import * as net from 'node:net';
import { encodeAlive2Request, encodePortPlease2Request } from '../../../lib/runtime/epmd/codec';
import { EpmdServer } from '../../../lib/runtime/epmd/server';

function ask(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    s.on('data', (c) => {
      chunks.push(c);
      // An ALIVE2 answer is all a registration gets: the connection stays open, end it here.
      if (bytes[2] === 120) s.destroy();
    });
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

describe('EPMD server observer (metrics)', () => {
  test('told of each lookup by how it was answered, of refused registrations, of the peer routes in force', async () => {
    const seen: string[] = [];
    const observer = {
      lookup: (r: string) => seen.push(`lookup ${r}`),
      refused: () => seen.push('refused'),
      peers: (n: number) => seen.push(`peers ${n}`),
    };
    const peers = [{ address: '127.0.0.1', alive: 'billing', port: 20001 }];
    const server = new EpmdServer({ port: 0, addresses: ['127.0.0.1'], peers, own: { alive: 'me', port: 9100 }, observer });
    await server.start();
    try {
      await ask(server.port, encodePortPlease2Request('billing'));
      await ask(server.port, encodePortPlease2Request('nobody'));
      await ask(server.port, encodeAlive2Request({ port: 5000, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'billing' }));
      server.setPeers([]);
      expect(seen).toEqual(['peers 1', 'lookup peer', 'lookup unknown', 'refused', 'peers 0']);
    } finally {
      await server.close();
    }
  });
});

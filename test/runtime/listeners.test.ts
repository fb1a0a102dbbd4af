import * as net from 'node:net';
import { boundListeners, listeningSockets, socketInodes } from '../../lib/runtime/listeners';

describe('listeners from the kernel socket table', () => {
  test('finds our listener with its address, port and inode, held by us; a free port is not listening', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.3', () => r()));
    try {
      const port = (s.address() as net.AddressInfo).port;
      const mine = listeningSockets().filter((l) => l.port === port);
      expect(mine.map((l) => l.address)).toEqual(['127.0.0.3']);
      expect(socketInodes(process.pid)!.has(mine[0].inode)).toBe(true);
      expect(boundListeners([{ address: '127.0.0.3', port }, { address: '127.0.0.4', port }], process.pid)).toEqual([true, false]);
    } finally {
      s.close();
    }
  });

  test('a wildcard listener counts for any address on its port', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '0.0.0.0', () => r()));
    try {
      const port = (s.address() as net.AddressInfo).port;
      expect(boundListeners([{ address: '127.0.0.1', port }])).toEqual([true]);
    } finally {
      s.close();
    }
  });
});

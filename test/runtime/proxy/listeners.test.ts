import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { boundListeners, listeningSockets, socketInodes } from '../../../lib/runtime/proxy/listeners';

describe('listeners from the kernel socket table', () => {
  test('finds our listener with its address, port and inode, held by us; a free port is not listening', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.3', () => r()));
    try {
      const port = (s.address() as net.AddressInfo).port;
      const mine = listeningSockets().filter((l) => l.port === port);
      expect(mine.map((l) => l.address)).toEqual(['127.0.0.3']);
      expect(socketInodes(process.pid)!.has(mine[0].inode)).toBe(true);
      expect(
        boundListeners(
          [
            { address: '127.0.0.3', port },
            { address: '127.0.0.4', port },
          ],
          process.pid,
        ),
      ).toEqual([true, false]);
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

  test('hundreds of listeners: each target is matched by its own address and port only', async () => {
    const servers = Array.from({ length: 300 }, () => net.createServer());
    await Promise.all(servers.map((s, i) => new Promise<void>((r) => s.listen(0, `127.0.${1 + (i >> 8)}.${1 + (i % 250)}`, () => r()))));
    try {
      const bound = servers.map((s) => s.address() as net.AddressInfo);
      const targets = bound.map((a) => ({ address: a.address, port: a.port }));
      // The same ports on an address nobody listens on, and one's address with another's port.
      const misses = [...bound.map((a) => ({ address: '127.9.9.9', port: a.port })), { address: bound[0].address, port: bound[1].port }];
      expect(boundListeners(targets, process.pid)).toEqual(targets.map(() => true));
      expect(boundListeners(misses, process.pid)).toEqual(misses.map((m) => m.address === bound[1].address));
    } finally {
      for (const s of servers) s.close();
    }
  });

  test('a table of tens of thousands of TIME_WAIT rows: exactly its LISTEN rows, across read chunks, read up to the last one', () => {
    // Rows as the kernel writes /proc/net/tcp: padded to 149 characters, LISTEN is state 0A; the
    // listening hash first (SYN_RECV requests, 03, among them before Linux 4.4), then the rest.
    const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
    const row = (i: number, st: string, port: number, inode: number) =>
      `${String(i).padStart(4)}: 0100007F:${hex(port, 4)} ${
        st === '0A' ? '00000000:0000' : '0200007F:1F90'
      } ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`.padEnd(149) + '\n';
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'.padEnd(149) + '\n'];
    // Rows 0-1400 hold the first two 64 KiB read boundaries, whatever was carried over; the last
    // whole row of the first read (after the header, rows of 150 bytes) a SYN_RECV request, which
    // does not end the listeners.
    const synRecv = Math.floor((64 * 1024) / 150) - 2;
    const listen = Array.from({ length: 1401 }, (_, i) => i).filter((i) => i !== synRecv);
    for (let i = 0; i < 40000; i++) {
      if (i <= 1400) lines.push(i === synRecv ? row(i, '03', 20000, 0) : row(i, '0A', 10000 + i, 900000 + i));
      // A LISTEN row the kernel never writes after the others: not read, the read ended before.
      else lines.push(i === 39999 ? row(i, '0A', 9999, 999999) : row(i, '06', 30000 + (i % 30000), 0));
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-table-'));
    try {
      const file = path.join(dir, 'tcp');
      fs.writeFileSync(file, lines.join(''));
      const got = listeningSockets([file, path.join(dir, 'missing')]);
      expect(got).toEqual(listen.map((i) => ({ address: '127.0.0.1', port: 10000 + i, inode: String(900000 + i) })));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

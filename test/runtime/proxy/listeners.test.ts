import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { boundListeners, listeningSockets, socketInodes, socketInodesAmong } from '../../../lib/runtime/proxy/listeners';

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

  // Rows as the kernel writes /proc/net/tcp: padded to 149 characters, LISTEN is state 0A.
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  const row = (i: number, st: string, port: number, inode: number) =>
    `${String(i).padStart(4)}: 0100007F:${hex(port, 4)} ${
      st === '0A' ? '00000000:0000' : '0200007F:1F90'
    } ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0`.padEnd(149) + '\n';
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'.padEnd(149) + '\n';
  const listenRow = (i: number) => row(i, '0A', 10000 + i, 900000 + i);
  const found = (is: number[]) => is.map((i) => ({ address: '127.0.0.1', port: 10000 + i, inode: String(900000 + i) }));

  function withTable(lines: string[], fn: (file: string, dir: string) => void): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-table-'));
    try {
      const file = path.join(dir, 'tcp');
      fs.writeFileSync(file, lines.join(''));
      fn(file, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('listeners first, then tens of thousands of TIME_WAIT rows: exactly the LISTEN rows, across read chunks', () => {
    // 1,500 listeners (~220 KB: three 64 KiB read boundaries), then the established part.
    const listen = Array.from({ length: 1500 }, (_, i) => i);
    const lines = [header, ...listen.map(listenRow)];
    for (let i = 1500; i < 41500; i++) lines.push(row(i, '06', 30000 + (i % 30000), 0));
    withTable(lines, (file, dir) => expect(listeningSockets([file, path.join(dir, 'missing')])).toEqual(found(listen)));
  });

  test('the read stops past the listeners: rows of the established part are not read', () => {
    // A LISTEN row after the established part (the kernel never writes one) shows where the read ended.
    const lines = [header, ...[0, 1, 2].map(listenRow)];
    for (let i = 3; i < 3000; i++) lines.push(row(i, '01', 30000 + i, 0));
    lines.push(listenRow(3000));
    withTable(lines, (file) => expect(listeningSockets([file])).toEqual(found([0, 1, 2])));
  });

  test('SYN_RECV rows among the listeners (kernels before 4.4) do not end the listening part', () => {
    const lines = [header];
    const listen: number[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i % 3 === 2) lines.push(row(i, '03', 40000 + i, 0));
      else {
        lines.push(listenRow(i));
        listen.push(i);
      }
    }
    for (let i = 3000; i < 4000; i++) lines.push(row(i, '06', 30000 + i, 0));
    withTable(lines, (file) => expect(listeningSockets([file])).toEqual(found(listen)));
  });

  test('socketInodesAmong: only the wanted inodes the pid holds; other listeners are placed as not ours', async () => {
    const servers = Array.from({ length: 5 }, () => net.createServer());
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    try {
      const ports = new Set(servers.map((s) => (s.address() as net.AddressInfo).port));
      const mine = listeningSockets().filter((l) => ports.has(l.port)).map((l) => l.inode);
      expect(mine).toHaveLength(5);
      const got = socketInodesAmong(process.pid, new Set([mine[0], mine[3], '1']));
      expect(got).toEqual(new Set([mine[0], mine[3]]));
      expect(socketInodesAmong(2 ** 22 + 1, new Set(mine))).toBeUndefined();
    } finally {
      for (const s of servers) s.close();
    }
  });
});

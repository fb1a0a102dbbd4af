import * as net from 'node:net';
import { decodeResponse, encodeQuery, Response, TYPE_A } from '../../../lib/runtime/dns/codec';
import { DnsServer } from '../../../lib/runtime/dns/server';

const framed = (msg: Buffer) => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);

/** Sends `bytes` on one connection; resolves with the framed responses read until the server closes or `count` arrive. */
function exchange(port: number, bytes: Buffer, count: number): Promise<{ responses: Response[]; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    let buf = Buffer.alloc(0);
    const responses: Response[] = [];
    const done = (closedByServer: boolean) => {
      s.destroy();
      resolve({ responses, closedByServer });
    };
    s.setTimeout(3000, () => done(false));
    s.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        responses.push(decodeResponse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (responses.length >= count) done(false);
    });
    s.once('end', () => done(true));
    s.once('error', reject);
  });
}

describe('DNS server (TCP on 127.0.0.1)', () => {
  let server: DnsServer;

  beforeEach(async () => {
    server = new DnsServer({ idleTimeoutMs: 300, maxQueriesPerConnection: 3 });
    await server.start();
    server.setHosts(new Map([['peer.test', '127.0.0.2']]));
  });

  afterEach(async () => {
    await server.close();
  });

  test('answers framed queries, several on one connection, in order, even split byte by byte', async () => {
    const bytes = Buffer.concat([framed(encodeQuery(1, 'peer.test', TYPE_A)), framed(encodeQuery(2, 'other.test', TYPE_A))]);
    const { responses } = await exchange(server.port, bytes, 2);
    expect(responses.map((r) => [r.id, r.rcode, r.answers.map((a) => a.address)])).toEqual([[1, 0, ['127.0.0.2']], [2, 3, []]]);
    const slow = await new Promise<Response[]>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: server.port });
      const q = framed(encodeQuery(3, 'peer.test', TYPE_A));
      let i = 0;
      const t = setInterval(() => (i < q.length ? s.write(q.subarray(i, ++i)) : clearInterval(t)), 1);
      s.on('data', (c) => { clearInterval(t); s.destroy(); resolve([decodeResponse(c.subarray(2))]); });
      s.once('error', (e) => { clearInterval(t); reject(e); });
    });
    expect(slow[0].answers[0].address).toBe('127.0.0.2');
  });

  test('setHosts replaces the map whole: the next query sees the new one', async () => {
    server.setHosts(new Map([['new.test', '127.0.0.3']]));
    const { responses } = await exchange(
      server.port,
      Buffer.concat([framed(encodeQuery(1, 'peer.test', TYPE_A)), framed(encodeQuery(2, 'NEW.test', TYPE_A))]),
      2,
    );
    expect(responses.map((r) => r.rcode)).toEqual([3, 0]);
  });

  test('closes a connection that sends an over-long length, garbage, too many queries, or nothing', async () => {
    expect((await exchange(server.port, Buffer.from([0x10, 0x00]), 1)).closedByServer).toBe(true);
    expect((await exchange(server.port, framed(Buffer.from('zz')), 1)).closedByServer).toBe(true);
    const four = Buffer.concat([1, 2, 3, 4].map((id) => framed(encodeQuery(id, 'peer.test', TYPE_A))));
    const r = await exchange(server.port, four, 5);
    expect([r.responses.length, r.closedByServer]).toEqual([3, true]);
    const idle = await exchange(server.port, Buffer.alloc(0), 1);
    expect(idle.closedByServer).toBe(true);
    for (let i = 0; i < 50 && server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.connectionCount).toBe(0);
  });

  test('listens on loopback only; a port in use is an error; close ends open connections', async () => {
    const other = new DnsServer({ port: server.port });
    await expect(other.start()).rejects.toThrow(/EADDRINUSE/);
    await other.close();
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    await server.close();
    await closed;
    await expect(
      new Promise((resolve, reject) => net.connect({ host: '127.0.0.1', port: server.port }).once('connect', resolve).once('error', reject)),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

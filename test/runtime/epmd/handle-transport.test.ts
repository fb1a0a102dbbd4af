import * as net from 'node:net';
import { handleTransport } from '../../../lib/runtime/epmd/handle-transport';
import { netTransport } from '../../../lib/runtime/epmd/net-transport';
import { ConnectionHandler, EpmdConnection, EpmdTransport } from '../../../lib/runtime/epmd/transport';

/** Connects, sends `bytes`, reads until the server closes. */
function exchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    const t = setTimeout(() => { s.destroy(); reject(new Error('the server did not close')); }, 5000);
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)); });
  });
}

/** A handler that records events and answers every chunk with `answer(chunk)`. */
function recorder(answer: (chunk: Buffer) => Buffer | undefined) {
  const events: string[] = [];
  const handler: ConnectionHandler = {
    connection: () => events.push('connection'),
    data: (conn: EpmdConnection, chunk: Buffer) => {
      events.push(`data ${chunk.length}`);
      const a = answer(chunk);
      if (a) conn.reply(a);
    },
    closed: () => events.push('closed'),
  };
  return { handler, events };
}

describe.each([['handle', handleTransport()!], ['net', netTransport]] as Array<[string, EpmdTransport]>)('%s transport', (name, transport) => {
  test('names itself', () => {
    expect(transport.name).toBe(name);
  });

  test('a reply larger than the socket buffers is written whole before the close', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7); // the write cannot complete at once
    const { handler, events } = recorder(() => big);
    const l = await transport.listen('127.0.0.1', 0, handler);
    try {
      const got = await exchange(l.port, Buffer.from('go'));
      expect(got.length).toBe(big.length);
      expect(got.equals(big)).toBe(true);
      for (let i = 0; i < 50 && !events.includes('closed'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(events).toEqual(['connection', 'data 2', 'closed']);
    } finally {
      await l.close();
    }
  });

  test('a client that goes away is reported closed once; write keeps the connection open', async () => {
    const { handler, events } = recorder(() => undefined);
    let first: EpmdConnection | undefined;
    const l = await transport.listen('127.0.0.1', 0, { ...handler, connection: (c) => { first = c; handler.connection(c); } });
    try {
      const s = net.connect({ host: '127.0.0.1', port: l.port });
      await new Promise((r) => s.once('connect', r));
      for (let i = 0; i < 50 && !first; i++) await new Promise((r) => setTimeout(r, 10));
      first!.write(Buffer.from('hello'));
      const got = await new Promise<Buffer>((r) => s.once('data', r));
      expect(got.toString()).toBe('hello');
      s.destroy();
      for (let i = 0; i < 50 && !events.includes('closed'); i++) await new Promise((r) => setTimeout(r, 10));
      first!.close(); // idempotent: no second 'closed'
      await new Promise((r) => setTimeout(r, 20));
      expect(events).toEqual(['connection', 'closed']);
    } finally {
      await l.close();
    }
  });

  test('a taken port rejects with the system error code', async () => {
    const { handler } = recorder(() => undefined);
    const l = await transport.listen('127.0.0.1', 0, handler);
    try {
      await expect(transport.listen('127.0.0.1', l.port, handler)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await l.close();
    }
  });
});

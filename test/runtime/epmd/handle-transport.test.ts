import * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { handleTransport } from '../../../lib/runtime/epmd/handle-transport';
import { netTransport } from '../../../lib/runtime/epmd/net-transport';
import { ConnectionHandler, EpmdConnection, EpmdTransport } from '../../../lib/runtime/epmd/transport';

/** Connects, sends `bytes`, reads until the server closes. */
function exchange(port: number, bytes: Buffer, halfClose = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => (halfClose ? s.end(bytes) : s.write(bytes)));
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

  test('connections served at once each get the answer to their own bytes, large and small replies mixed', async () => {
    // The handle transport reads every connection into one buffer and reuses write requests.
    const big = Buffer.alloc(4 * 1024 * 1024, 9);
    const { handler } = recorder((chunk) => (chunk[0] === 0x42 ? big : Buffer.concat([Buffer.from('re:'), chunk])));
    const l = await transport.listen('127.0.0.1', 0, handler);
    try {
      const asks = Array.from({ length: 40 }, (_, i) => Buffer.from(i % 10 === 0 ? `B${i}` : `ask-${i}-${'x'.repeat(i)}`));
      const got = await Promise.all(asks.map((a) => exchange(l.port, a)));
      got.forEach((g, i) => {
        if (i % 10 === 0) expect(g.equals(big)).toBe(true);
        else expect(g.toString()).toBe(`re:${asks[i].toString()}`);
      });
    } finally {
      await l.close();
    }
  });

  test("a client's half-close after its request does not cut a reply still being written", async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 5);
    const { handler } = recorder(() => big);
    const l = await transport.listen('127.0.0.1', 0, handler);
    try {
      const got = await exchange(l.port, Buffer.from('go'), true);
      expect(got.length).toBe(big.length);
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

  test('the bytes of a pending write stay alive when the caller drops them and memory is collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const size = 32 * 1024 * 1024;
    let conn: EpmdConnection | undefined;
    const l = await transport.listen('127.0.0.1', 0, { connection: (c) => (conn = c), data: () => undefined, closed: () => undefined });
    const s = net.connect({ host: '127.0.0.1', port: l.port });
    try {
      s.pause(); // unread: the server's write cannot complete at once
      await new Promise((r) => s.once('connect', r));
      for (let i = 0; i < 100 && !conn; i++) await new Promise((r) => setTimeout(r, 5));
      ((c: EpmdConnection) => c.write(Buffer.alloc(size, 7)))(conn!); // unreachable from here on
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      const churn = Array.from({ length: 8 }, () => Buffer.alloc(size / 4, 9)); // reuse freed memory
      let got = 0;
      let wrong = 0;
      await new Promise<void>((resolve) => {
        s.on('data', (c: Buffer) => {
          for (let i = 0; i < c.length; i++) if (c[i] !== 7) wrong++;
          got += c.length;
          if (got >= size) resolve();
        });
        s.on('close', () => resolve());
        s.resume();
      });
      expect(churn.length).toBe(8);
      expect({ got, wrong }).toEqual({ got: size, wrong: 0 });
    } finally {
      s.destroy();
      conn?.close();
      await l.close();
    }
  });
});

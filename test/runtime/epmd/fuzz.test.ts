// Fuzzing the EPMD server: random and mutated frames, lying lengths, unknown tags, bytes after
// ALIVE2, slow senders, idle connections. It must never crash, never leak sockets, and keep
// answering valid requests.
import * as net from 'node:net';
import { decodePort2Response, decodeRequest, encodeAlive2Request, encodePortPlease2Request, frame } from '../../../lib/runtime/epmd/codec';
import { EpmdServer } from '../../../lib/runtime/epmd/server';
import { rng } from '../../util';

jest.setTimeout(300_000);

const VALID = [
  encodePortPlease2Request('app'),
  encodeAlive2Request({ port: 9100, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'fuzz' }),
  Buffer.from([0, 1, 0x6e]),
  Buffer.from([0, 1, 0x64]),
  Buffer.from([0, 1, 0x6b]),
  frame(Buffer.from([0x73, 0x61])),
];

/** A random or mutated frame. */
function fuzzFrame(r: () => number): Buffer {
  const kind = Math.floor(r() * 6);
  const base = Buffer.from(VALID[Math.floor(r() * VALID.length)]);
  const rand = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  switch (kind) {
    case 0: // pure noise
      return rand(Math.floor(r() * 64));
    case 1: // flipped bytes
      for (let i = 0; i < 1 + r() * 4; i++) base[Math.floor(r() * base.length)] = Math.floor(r() * 256);
      return base;
    case 2: // truncated
      return base.subarray(0, Math.floor(r() * base.length));
    case 3: // lying length
      base.writeUInt16BE(Math.floor(r() * 65536), 0);
      return base;
    case 4: // unknown tag, valid framing
      return frame(Buffer.concat([Buffer.from([Math.floor(r() * 256)]), rand(Math.floor(r() * 16))]));
    default: // valid then trailing garbage
      return Buffer.concat([base, rand(1 + Math.floor(r() * 8))]);
  }
}

function send(port: number, address: string, bytes: Buffer, slow: boolean): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.setTimeout(3000, () => s.destroy());
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.on('data', () => undefined);
    s.on('connect', async () => {
      if (!slow) {
        s.end(bytes);
        return;
      }
      for (const b of bytes) {
        if (s.destroyed) return;
        s.write(Buffer.from([b]));
        await new Promise((r) => setTimeout(r, 5));
      }
      s.end();
    });
  });
}

function lookup(port: number, address: string, name: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: address, port }, () => s.write(encodePortPlease2Request(name)));
    s.setTimeout(3000, () => { s.destroy(); reject(new Error('lookup timed out')); });
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const b = Buffer.concat(chunks);
      resolve(b.length ? decodePort2Response(b).info?.port : undefined);
    });
  });
}

test('the decoder survives 100,000 random and mutated frames', () => {
  const r = rng(1);
  let invalid = 0;
  for (let i = 0; i < 100_000; i++) {
    const d = decodeRequest(fuzzFrame(r));
    if (d && d.used <= 0) throw new Error(`frame ${i}: decoder used ${d.used} bytes`);
    if (d?.request.tag === 'invalid') invalid++;
  }
  expect(invalid).toBeGreaterThan(1000);
});

test('the server survives 100,000 fuzzed frames over live connections, leaks nothing, and keeps answering', async () => {
  const server = new EpmdServer({
    port: 0,
    addresses: ['127.0.0.1', '127.0.0.2'],
    peers: [{ address: '127.0.0.2', alive: 'app', port: 20002 }],
    requestTimeoutMs: 500,
    maxConnections: 128,
  });
  await server.start();
  const r = rng(42);
  const FRAMES = 100_000;
  // Two frames per connection: the first is the request; the second is what a confused or hostile
  // client sends after it (trailing bytes, bytes after ALIVE2).
  const PER_CONNECTION = 2;
  const CONCURRENCY = 64;
  let sent = 0;
  let checks = 0;
  // Idle connections that never send: the server must close them.
  const idle = await Promise.all(
    Array.from(
      { length: 32 },
      () =>
        new Promise<net.Socket>((res) => {
          const s = net.connect({ host: '127.0.0.1', port: server.port }, () => res(s));
          s.on('error', () => undefined);
        }),
    ),
  );
  const worker = async () => {
    while (sent < FRAMES) {
      const frames: Buffer[] = [];
      for (let i = 0; i < PER_CONNECTION && sent < FRAMES; i++, sent++) frames.push(fuzzFrame(r));
      const slow = r() < 0.002;
      await send(server.port, r() < 0.5 ? '127.0.0.1' : '127.0.0.2', Buffer.concat(frames), slow);
      if (sent % 5000 < PER_CONNECTION) {
        expect(await lookup(server.port, '127.0.0.2', 'app')).toBe(20002);
        checks++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  expect(sent).toBe(FRAMES);
  expect(checks).toBeGreaterThanOrEqual(10);
  // Idle ones were closed by the request deadline; fuzz registrations went when their sockets closed.
  await new Promise((res) => setTimeout(res, 700));
  expect(idle.every((s) => s.destroyed || s.readableEnded)).toBe(true);
  for (const s of idle) s.destroy();
  // The server sees the last closes asynchronously: wait for them rather than a fixed time.
  for (let t0 = Date.now(); server.connectionCount > 0 && Date.now() - t0 < 5000; ) await new Promise((res) => setTimeout(res, 20));
  expect(server.connectionCount).toBe(0);
  expect(server.registered).toEqual([]);
  expect(await lookup(server.port, '127.0.0.2', 'app')).toBe(20002);
  await server.close();
});

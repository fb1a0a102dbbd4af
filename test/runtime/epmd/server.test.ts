import * as net from 'node:net';
import { decodePort2Response, encodeAlive2Request, encodePortPlease2Request } from '../../../lib/runtime/epmd/codec';
import { handleTransport } from '../../../lib/runtime/epmd/handle-transport';
import { netTransport } from '../../../lib/runtime/epmd/net-transport';
import { defaultTransport, EpmdServer, Registration } from '../../../lib/runtime/epmd/server';
import { EpmdTransport } from '../../../lib/runtime/epmd/transport';

/** Sends bytes, collects everything until the server closes; also reports whether it closed. */
function request(address: string, port: number, bytes: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: address, port }, () => s.write(bytes));
    const t = setTimeout(() => { s.destroy(); reject(new Error('server did not close the connection')); }, timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => { clearTimeout(t); resolve(Buffer.concat(chunks)); });
  });
}

/** Registers like a BEAM: keeps the socket open; resolves with the reply and the socket. */
function register(port: number, name: string, distPort: number, hi = 6): Promise<{ reply: Buffer; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () =>
      s.write(encodeAlive2Request({ port: distPort, nodeType: 77, protocol: 0, highestVersion: hi, lowestVersion: 5, name })),
    );
    s.once('data', (reply) => resolve({ reply, socket: s }));
    s.on('error', reject);
  });
}

const nextEvent = (server: EpmdServer, event: string) => new Promise<Registration>((r) => server.once(event, r));

describe('EPMD transports', () => {
  test('libuv handles on this Node, node:net when MESHX_EPMD_TRANSPORT=net', () => {
    // CI runs every supported Node major: a Node without the handles fails here, not silently.
    expect(handleTransport()?.name).toBe('handle');
    expect(defaultTransport({}).name).toBe('handle');
    expect(defaultTransport({ MESHX_EPMD_TRANSPORT: 'net' }).name).toBe('net');
    // process.binding would print DEP0111 there: the helper's log stays clean.
    expect(defaultTransport({ NODE_PENDING_DEPRECATION: '1' }).name).toBe('net');
    expect(defaultTransport({ NODE_OPTIONS: '--max-old-space-size=64 --pending-deprecation' }).name).toBe('net');
  });
});

// Every behaviour below holds over both transports.
const TRANSPORTS: Array<[string, EpmdTransport]> = [['net', netTransport], ['handle', handleTransport()!]];

describe.each(TRANSPORTS)('over %s', (_name, transport) => {
  describe('EpmdServer', () => {
    let server: EpmdServer;
    const open: net.Socket[] = [];

    beforeEach(async () => {
      server = new EpmdServer({
        port: 0,
        addresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
        peers: [
          { address: '127.0.0.2', alive: 'app', port: 20002 },
          { address: '127.0.0.3', alive: 'app', port: 20003 },
          { address: '127.0.0.1', alive: 'worker', port: 20001 },
        ],
        requestTimeoutMs: 300,
        maxConnections: 50,
        transport,
      });
      await server.start();
    });

    afterEach(async () => {
      for (const s of open.splice(0)) s.destroy();
      await server.close();
    });

    test('listens on one port on every address', async () => {
      expect(server.port).toBeGreaterThan(0);
      for (const a of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
        expect(decodePort2Response(await request(a, server.port, encodePortPlease2Request('nobody'))).result).toBe(1);
      }
    });

    test('a running server takes a new address and new routes (live topology); the old routes go', async () => {
      await server.addAddress('127.0.0.4');
      await server.addAddress('127.0.0.4'); // twice: nothing new
      server.setPeers([{ address: '127.0.0.4', alive: 'app', port: 20004 }]);
      expect(server.addresses.sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
      expect(decodePort2Response(await request('127.0.0.4', server.port, encodePortPlease2Request('app')))).toMatchObject({
        result: 0,
        info: { port: 20004 },
      });
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app'))).result).toBe(1);
    });

    test('addAddress names the address when the port is taken there', async () => {
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(server.port, '127.0.0.5', () => r()));
      try {
        await expect(server.addAddress('127.0.0.5')).rejects.toThrow(new RegExp(`EPMD port ${server.port} is already in use on 127.0.0.5`));
        expect(server.addresses).not.toContain('127.0.0.5');
      } finally {
        blocker.close();
      }
    });

    test('routes PORT_PLEASE2 by the address it arrives on: same alive name, different peers', async () => {
      const at2 = decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app')));
      const at3 = decodePort2Response(await request('127.0.0.3', server.port, encodePortPlease2Request('app')));
      expect(at2).toEqual({ result: 0, info: { port: 20002, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'app' } });
      expect(at3.info!.port).toBe(20003);
      // a peer on the node's own host is answered on 127.0.0.1
      expect(decodePort2Response(await request('127.0.0.1', server.port, encodePortPlease2Request('worker'))).info!.port).toBe(20001);
      // not known on that address
      expect(decodePort2Response(await request('127.0.0.3', server.port, encodePortPlease2Request('worker'))).result).toBe(1);
    });

    test('while held (the proxy not ready yet), peer lookups are answered only when the hold ends; others at once', async () => {
      let ready: () => void = () => undefined;
      server.holdPeerLookups(new Promise<void>((r) => (ready = r)), 10_000);
      const answers: string[] = [];
      const peer = request('127.0.0.2', server.port, encodePortPlease2Request('app')).then((b) => (answers.push('peer'), b));
      // Not a route: answered (an error) at once, as is every local lookup.
      const unknown = await request('127.0.0.2', server.port, encodePortPlease2Request('nobody'));
      expect(decodePort2Response(unknown).result).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(answers).toEqual([]);
      ready();
      expect(decodePort2Response(await peer).info!.port).toBe(20002);
      // The hold is over: answered at once again.
      expect(decodePort2Response(await request('127.0.0.3', server.port, encodePortPlease2Request('app'), 500)).info!.port).toBe(20003);
    });

    test('a hold ends at its bound, and when its promise is rejected (the boot fails: answered, then undone)', async () => {
      server.holdPeerLookups(new Promise<void>(() => undefined), 300);
      const t0 = Date.now();
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app'))).info!.port).toBe(20002);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      server.holdPeerLookups(Promise.reject(new Error('not ready')), 10_000);
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app'), 1000)).info!.port).toBe(20002);
    });

    test('ALIVE2: replies v + creation in one write, keeps the socket, answers lookups, unregisters on close', async () => {
      const registered = nextEvent(server, 'registered');
      const { reply, socket } = await register(server.port, 'me', 41000);
      open.push(socket);
      expect(reply.length).toBe(6);
      expect(reply[0]).toBe(0x76);
      expect(reply[1]).toBe(0);
      expect(reply.readUInt32BE(2)).toBeGreaterThanOrEqual(4);
      expect((await registered).name).toBe('me');
      const found = decodePort2Response(await request('127.0.0.1', server.port, encodePortPlease2Request('me')));
      expect(found.info).toMatchObject({ port: 41000, highestVersion: 6, lowestVersion: 5 });
      // registrations are local: not visible on a peer address
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('me'))).result).toBe(1);
      const names = await request('127.0.0.1', server.port, Buffer.from([0, 1, 0x6e]));
      expect(names.readUInt32BE(0)).toBe(server.port);
      expect(names.subarray(4).toString()).toBe('name me at port 41000\n');
      const gone = nextEvent(server, 'unregistered');
      socket.destroy();
      expect((await gone).name).toBe('me');
      expect(decodePort2Response(await request('127.0.0.1', server.port, encodePortPlease2Request('me'))).result).toBe(1);
    });

    test('a version-5 node gets the 4-byte y reply with creation 1..3', async () => {
      const { reply, socket } = await register(server.port, 'old', 41001, 5);
      open.push(socket);
      expect(reply.length).toBe(4);
      expect(reply[0]).toBe(0x79);
      expect([1, 2, 3]).toContain(reply.readUInt16BE(2));
    });

    test('creation changes when a name registers again', async () => {
      const first = await register(server.port, 'me', 41000);
      first.socket.destroy();
      await nextEvent(server, 'unregistered');
      const second = await register(server.port, 'me', 41000);
      open.push(second.socket);
      expect(second.reply.readUInt32BE(2)).not.toBe(first.reply.readUInt32BE(2));
    });

    test('refuses a duplicate live name with result 1', async () => {
      const first = await register(server.port, 'me', 41000);
      open.push(first.socket);
      const second = await register(server.port, 'me', 41002);
      open.push(second.socket);
      expect(second.reply[1]).toBe(1);
      expect(server.registered.map((r) => r.port)).toEqual([41000]);
    });

    test('bytes after ALIVE2 unregister the node', async () => {
      const { socket } = await register(server.port, 'me', 41000);
      const gone = nextEvent(server, 'unregistered');
      socket.write(Buffer.from([0]));
      expect((await gone).name).toBe('me');
    });

    test('ALIVE2 is refused on a peer address', async () => {
      const reply = await request(
        '127.0.0.2',
        server.port,
        encodeAlive2Request({ port: 1, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: 'x' }),
      );
      expect(reply.length).toBe(0);
      expect(server.registered).toEqual([]);
    });

    test('NAMES on a peer address lists that host\'s peers', async () => {
      const names = await request('127.0.0.2', server.port, Buffer.from([0, 1, 0x6e]));
      expect(names.subarray(4).toString()).toBe('name app at port 20002\n');
    });

    test('KILL is answered NO; invalid requests are closed without a reply', async () => {
      expect((await request('127.0.0.1', server.port, Buffer.from([0, 1, 0x6b]))).toString()).toBe('NO');
      expect((await request('127.0.0.1', server.port, Buffer.from([0, 1, 0xff]))).length).toBe(0);
    });

    test('closes a connection that does not finish its request in time', async () => {
      const start = Date.now();
      const reply = await request('127.0.0.1', server.port, Buffer.from([0, 4, 0x7a]), 3000);
      expect(reply.length).toBe(0);
      expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    });

    test('the deadline sweeper stops when only registrations are left and starts again with the next connection', async () => {
      const tick = 75; // requestTimeoutMs / 4
      const { socket } = await register(server.port, 'idle', 5555);
      open.push(socket);
      expect(server.sweeping).toBe(true);
      await new Promise((r) => setTimeout(r, 3 * tick));
      expect(server.sweeping).toBe(false); // an idle helper is not woken
      expect(server.registered.map((r) => r.name)).toEqual(['idle']); // the registration stays
      // A slow sender after the pause is still cut at the deadline.
      const start = Date.now();
      const reply = await request('127.0.0.1', server.port, Buffer.from([0, 4, 0x7a]), 3000);
      expect(reply.length).toBe(0);
      expect(Date.now() - start).toBeGreaterThanOrEqual(250);
      await new Promise((r) => setTimeout(r, 3 * tick));
      expect(server.sweeping).toBe(false);
      expect(decodePort2Response(await request('127.0.0.1', server.port, encodePortPlease2Request('idle'))).info!.port).toBe(5555);
    });

    test('caps concurrent connections and keeps answering once they go', async () => {
      const idle = await Promise.all(
        Array.from(
          { length: 60 },
          () =>
            new Promise<net.Socket>((r) => {
              const s = net.connect({ host: '127.0.0.1', port: server.port }, () => r(s));
              s.on('error', () => undefined);
            }),
        ),
      );
      open.push(...idle);
      await new Promise((r) => setTimeout(r, 50));
      expect(server.connectionCount).toBeLessThanOrEqual(50);
      for (const s of idle) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app'))).info!.port).toBe(20002);
    });

    test('ALIVE2 and a reset at once: registered comes before unregistered, and nothing is left', async () => {
    const events: string[] = [];
    server.on('registered', (r: Registration) => events.push(`registered ${r.name}`));
    server.on('unregistered', (r: Registration) => events.push(`unregistered ${r.name}`));
    for (let i = 0; i < 10; i++) {
      const s = net.connect({ host: '127.0.0.1', port: server.port });
      await new Promise((r) => s.once('connect', r));
      s.write(encodeAlive2Request({ port: 4000 + i, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name: `r${i}` }));
      s.resetAndDestroy();
    }
    for (let i = 0; i < 100 && server.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.connectionCount).toBe(0);
    expect(server.registered).toEqual([]);
    // Per name: never an unregistration before its registration, and the last word is unregistered.
    for (let i = 0; i < 10; i++) {
      const mine = events.filter((e) => e.endsWith(` r${i}`));
      if (mine.length > 0) expect(mine).toEqual([`registered r${i}`, `unregistered r${i}`]);
    }
  });

  test('an address added while the server closes is not left listening', async () => {
    const adding = server.addAddress('127.0.0.9');
    await server.close();
    await adding;
    await expect(request('127.0.0.9', server.port, encodePortPlease2Request('app'), 500)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('a fixed port that is taken fails with a message naming the port', async () => {
      const other = new EpmdServer({ port: server.port, addresses: ['127.0.0.1'], peers: [], transport });
      await expect(other.start()).rejects.toThrow(`EPMD port ${server.port} is already in use`);
      await other.close();
    });
  });

  describe('EpmdServer on a shared host: a local process cannot take over a route', () => {
    let server: EpmdServer;
    const open: net.Socket[] = [];
    const alive2 = (name: string, port: number, extra = Buffer.alloc(0)) =>
      encodeAlive2Request({ port, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name, extra });

    beforeEach(async () => {
      server = new EpmdServer({
        port: 0,
        addresses: ['127.0.0.1', '127.0.0.2'],
        peers: [
          { address: '127.0.0.2', alive: 'billing', port: 20002 },
          { address: '127.0.0.1', alive: 'worker', port: 20001 },
          { address: '127.0.0.2', alive: 'app', port: 20003 },
        ],
        own: { alive: 'app', port: 41000 },
        maxConnections: 20,
        transport,
      });
      await server.start();
    });

    afterEach(async () => {
      for (const s of open.splice(0)) s.destroy();
      await server.close();
    });

    test.each(['billing', 'worker'])('ALIVE2 for %s, routed to a peer, is refused and the route still answers', async (name) => {
      const { reply, socket } = await register(server.port, name, 45000);
      open.push(socket);
      expect(reply[1]).toBe(1);
      expect(server.registered).toEqual([]);
      const at = name === 'worker' ? '127.0.0.1' : '127.0.0.2';
      expect(decodePort2Response(await request(at, server.port, encodePortPlease2Request(name))).info!.port).toBe(name === 'worker' ? 20001 : 20002);
    });

    test("the node's own name: refused with another port, and while the BEAM holds it", async () => {
      const squat = await register(server.port, 'app', 45000);
      open.push(squat.socket);
      expect(squat.reply[1]).toBe(1);
      const beam = await register(server.port, 'app', 41000);
      open.push(beam.socket);
      expect(beam.reply[1]).toBe(0);
      const second = await register(server.port, 'app', 41000);
      open.push(second.socket);
      expect(second.reply[1]).toBe(1);
      expect(server.registered.map((r) => r.port)).toEqual([41000]);
      // The same alive name of a peer is still answered on that peer's address.
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('app'))).info!.port).toBe(20003);
    });

    test('ALIVE2 extra is kept and returned in PORT2_RESP', async () => {
      const extra = Buffer.from([1, 2, 3, 0, 255]);
      const { reply, socket } = await new Promise<{ reply: Buffer; socket: net.Socket }>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: server.port }, () => s.write(alive2('console', 45001, extra)));
        s.once('data', (r) => resolve({ reply: r, socket: s }));
        s.on('error', reject);
      });
      open.push(socket);
      expect(reply[1]).toBe(0);
      const found = decodePort2Response(await request('127.0.0.1', server.port, encodePortPlease2Request('console')));
      expect(found.info!.extra).toEqual(extra);
    });

    test('registrations count against the connection cap', async () => {
      for (let i = 0; i < 20; i++) {
        const { reply, socket } = await register(server.port, `c${i}`, 46000 + i);
        open.push(socket);
        expect(reply[1]).toBe(0);
      }
      expect(server.connectionCount).toBe(20);
      // Full: a 21st connection (registration or lookup) is closed without an answer.
      expect((await request('127.0.0.2', server.port, encodePortPlease2Request('billing'))).length).toBe(0);
      const gone = nextEvent(server, 'unregistered');
      open.shift()!.destroy();
      await gone;
      expect(decodePort2Response(await request('127.0.0.2', server.port, encodePortPlease2Request('billing'))).info!.port).toBe(20002);
    });
  });
});

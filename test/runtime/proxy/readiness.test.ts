import * as http from 'node:http';
import * as net from 'node:net';
import { ProxyKind } from '../../../lib/manifest/types';
import { spawnTied } from '../../../lib/runtime/child';
import { ListenerTaken, ProxyNotReady, readyAttempts, readyPollDelayMs, waitProxyReady } from '../../../lib/runtime/proxy/readiness';

describe('proxy readiness', () => {
  const servers: Array<net.Server | http.Server> = [];
  const listen = <T extends net.Server>(s: T, host = '127.0.0.1'): Promise<number> =>
    new Promise((r) => {
      servers.push(s);
      s.listen(0, host, () => r((s.address() as net.AddressInfo).port));
    });
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  const ports = (up: number, pub: number) => ({
    epmdPort: 1,
    distPort: 2,
    sidecarPort: pub,
    upstreams: [{ node: 'b@h', service: 'b', address: '127.0.0.2', port: up }],
  });

  test('built-in: ready once every upstream and the public listener accept', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    await expect(waitProxyReady(ports(up, pub), { kind: ProxyKind.BUILTIN, timeoutMs: 2000, proxy: { restartCount: 0 } })).resolves.toBeUndefined();
  });

  test('names what does not accept when the deadline passes, and says the proxy restarted', async () => {
    const pub = await listen(net.createServer());
    const freeUp = await listen(net.createServer(), '127.0.0.2');
    servers.pop()!.close();
    await expect(waitProxyReady(ports(freeUp, pub), { kind: ProxyKind.BUILTIN, timeoutMs: 500, proxy: { restartCount: 3 } })).rejects.toThrow(
      new RegExp(`nothing listens on upstream b 127\\.0\\.0\\.2:${freeUp} \\(the proxy exited and was restarted 3 times`),
    );
  });

  test('envoy: listeners accepting is not enough until /ready answers 200 (LIVE can lag or lead the listeners)', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    let live = false;
    const admin = await listen(
      http.createServer((req, res) => {
        if (req.url === '/ready' && live) {
          res.writeHead(200);
          res.end('LIVE');
        } else {
          res.writeHead(503);
          res.end('PRE_INITIALIZING');
        }
      }),
    );
    const t0 = Date.now();
    setTimeout(() => {
      live = true;
    }, 400);
    await waitProxyReady(ports(up, pub), { kind: ProxyKind.ENVOY, adminBind: `127.0.0.1:${admin}`, timeoutMs: 3000, proxy: { restartCount: 0 } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  test('envoy: a /ready that never answers 200 is named in the error', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    const admin = await listen(
      http.createServer((_q, res) => {
        res.writeHead(503);
        res.end();
      }),
    );
    await expect(
      waitProxyReady(ports(up, pub), { kind: ProxyKind.ENVOY, adminBind: `127.0.0.1:${admin}`, timeoutMs: 400, proxy: { restartCount: 0 } }),
    ).rejects.toThrow(`envoy /ready on 127.0.0.1:${admin}`);
  });

  test('probes without connecting (a connection makes a proxy dial its peer), and only listeners of the proxy count', async () => {
    let connections = 0;
    const up = await listen(
      net.createServer(() => connections++),
      '127.0.0.2',
    );
    const pub = await listen(net.createServer(() => connections++));
    await waitProxyReady(ports(up, pub), { kind: ProxyKind.BUILTIN, timeoutMs: 2000, proxy: { restartCount: 0, pid: process.pid } });
    expect(connections).toBe(0);
    // The same listeners held by another process (here: us, seen from another pid) are not the
    // proxy's: it cannot bind them, so this fails at once instead of at the deadline.
    const other = spawnTied(['sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      const t0 = Date.now();
      await expect(
        waitProxyReady(ports(up, pub), { kind: ProxyKind.BUILTIN, timeoutMs: 20000, proxy: { restartCount: 0, pid: other.pid } }),
      ).rejects.toThrow(new ListenerTaken('upstream', '127.0.0.2', up));
      expect(Date.now() - t0).toBeLessThan(10000);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a timeout: ProxyNotReady names each missing listener, and names the whole wait when asked', async () => {
    const freeUp = await listen(net.createServer(), '127.0.0.2');
    servers.pop()!.close();
    const freePub = await listen(net.createServer());
    servers.pop()!.close();
    const e = await waitProxyReady(ports(freeUp, freePub), { kind: ProxyKind.BUILTIN, timeoutMs: 300, proxy: { restartCount: 0 } }).catch((x) => x);
    expect(e).toBeInstanceOf(ProxyNotReady);
    expect(e.missing).toEqual([`upstream b 127.0.0.2:${freeUp}`, `public listener 0.0.0.0:${freePub}`]);
    expect(e.waitedMs).toBe(300);
    expect(e.within(30000).message).toBe(
      `proxy not ready within 30s: nothing listens on upstream b 127.0.0.2:${freeUp}, public listener 0.0.0.0:${freePub}`,
    );
  });
});

describe('ready attempts', () => {
  test('the ready timeout split into up to 3 attempts of at least the floor (5 s)', () => {
    expect(readyAttempts(60000)).toEqual({ attempts: 3, attemptMs: 20000 });
    expect(readyAttempts(30000)).toEqual({ attempts: 3, attemptMs: 10000 });
    expect(readyAttempts(15000)).toEqual({ attempts: 3, attemptMs: 5000 });
    expect(readyAttempts(12000)).toEqual({ attempts: 2, attemptMs: 6000 });
    expect(readyAttempts(9999)).toEqual({ attempts: 1, attemptMs: 9999 });
    expect(readyAttempts(1000)).toEqual({ attempts: 1, attemptMs: 1000 });
    expect(readyAttempts(3000, 1000)).toEqual({ attempts: 3, attemptMs: 1000 });
  });

  test('checks again soon, then less often: 5 ms doubling to 100 ms', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(readyPollDelayMs)).toEqual([5, 10, 20, 40, 80, 100, 100, 100]);
  });
});

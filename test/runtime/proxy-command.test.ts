import * as http from 'node:http';
import * as net from 'node:net';
import { ProxyKind } from '../../lib/manifest/types';
import { proxyCommand } from '../../lib/runtime/proxy-command';
import { waitProxyReady } from '../../lib/runtime/run';

describe('proxy command lines', () => {
  test('built-in: consul connect proxy with -proxy-id, never -sidecar-for', () => {
    expect(proxyCommand({ kind: ProxyKind.BUILTIN, consulBin: '/usr/bin/consul', proxyId: 'shop-a-sidecar-proxy', httpAddr: 'http://127.0.0.1:8500' })).toEqual([
      '/usr/bin/consul', 'connect', 'proxy', '-proxy-id', 'shop-a-sidecar-proxy', '-http-addr', 'http://127.0.0.1:8500', '-log-level', 'info',
    ]);
  });

  test('envoy: consul connect envoy with its own admin bind, gRPC address and binary', () => {
    expect(proxyCommand({ kind: ProxyKind.ENVOY, consulBin: 'consul', proxyId: 'shop-a-sidecar-proxy', httpAddr: 'https://127.0.0.1:8501', tokenFile: '/etc/meshx/a.token', adminBind: '127.0.0.1:19123', grpcAddr: '127.0.0.1:8502', envoyBin: '/opt/envoy' })).toEqual([
      'consul', 'connect', 'envoy', '-proxy-id', 'shop-a-sidecar-proxy', '-http-addr', 'https://127.0.0.1:8501', '-token-file', '/etc/meshx/a.token',
      '-admin-bind', '127.0.0.1:19123', '-grpc-addr', '127.0.0.1:8502', '-envoy-binary', '/opt/envoy',
    ]);
  });

  test('a token is passed as a file, never as a value on the command line', () => {
    const argv = proxyCommand({ kind: ProxyKind.BUILTIN, consulBin: 'consul', proxyId: 'x-sidecar-proxy', httpAddr: 'http://a', tokenFile: '/t' });
    expect(argv).not.toContain('-token');
    expect(argv).toContain('-token-file');
  });

  test('envoy without an admin bind is refused', () => {
    expect(() => proxyCommand({ kind: ProxyKind.ENVOY, consulBin: 'consul', proxyId: 'x', httpAddr: 'http://a' })).toThrow(/admin bind/);
  });
});

describe('proxy readiness', () => {
  const servers: Array<net.Server | http.Server> = [];
  const listen = <T extends net.Server>(s: T, host = '127.0.0.1'): Promise<number> => new Promise((r) => { servers.push(s); s.listen(0, host, () => r((s.address() as net.AddressInfo).port)); });
  afterEach(() => { for (const s of servers.splice(0)) s.close(); });

  const ports = (up: number, pub: number) => ({ epmdPort: 1, distPort: 2, sidecarPort: pub, upstreams: [{ node: 'b@h', service: 'b', address: '127.0.0.2', port: up }] });

  test('built-in: ready once every upstream and the public listener accept', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    await expect(waitProxyReady(ports(up, pub), ProxyKind.BUILTIN, undefined, 2000, { restartCount: 0 })).resolves.toBeUndefined();
  });

  test('names what does not accept when the deadline passes, and says the proxy restarted', async () => {
    const pub = await listen(net.createServer());
    const freeUp = await listen(net.createServer(), '127.0.0.2');
    servers.pop()!.close();
    await expect(waitProxyReady(ports(freeUp, pub), ProxyKind.BUILTIN, undefined, 500, { restartCount: 3 })).rejects.toThrow(
      new RegExp(`nothing accepts on upstream b 127\\.0\\.0\\.2:${freeUp} \\(the proxy exited and was restarted 3 times`),
    );
  });

  test('envoy: listeners accepting is not enough until /ready answers 200 (LIVE can lag or lead the listeners)', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    let live = false;
    const admin = await listen(http.createServer((req, res) => {
      if (req.url === '/ready' && live) { res.writeHead(200); res.end('LIVE'); } else { res.writeHead(503); res.end('PRE_INITIALIZING'); }
    }));
    const t0 = Date.now();
    setTimeout(() => { live = true; }, 400);
    await waitProxyReady(ports(up, pub), ProxyKind.ENVOY, `127.0.0.1:${admin}`, 3000, { restartCount: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  test('envoy: a /ready that never answers 200 is named in the error', async () => {
    const up = await listen(net.createServer(), '127.0.0.2');
    const pub = await listen(net.createServer());
    const admin = await listen(http.createServer((_q, res) => { res.writeHead(503); res.end(); }));
    await expect(waitProxyReady(ports(up, pub), ProxyKind.ENVOY, `127.0.0.1:${admin}`, 400, { restartCount: 0 })).rejects.toThrow(`envoy /ready on 127.0.0.1:${admin}`);
  });
});

import { ProxyKind } from '../../../lib/manifest/types';
import { envoyBaseId, proxyCommand } from '../../../lib/runtime/proxy/command';

describe('proxy command lines', () => {
  test('built-in: consul connect proxy with -proxy-id, never -sidecar-for', () => {
    expect(
      proxyCommand({
        kind: ProxyKind.BUILTIN,
        consulBin: '/usr/bin/consul',
        proxyId: 'shop-a-sidecar-proxy',
        serviceId: 'shop-a',
        httpAddr: 'http://127.0.0.1:8500',
      }),
    ).toEqual([
      '/usr/bin/consul',
      'connect',
      'proxy',
      '-proxy-id',
      'shop-a-sidecar-proxy',
      '-http-addr',
      'http://127.0.0.1:8500',
      '-log-level',
      'info',
    ]);
  });

  test('envoy: consul connect envoy with its own admin bind, gRPC address and binary', () => {
    expect(
      proxyCommand({
        kind: ProxyKind.ENVOY,
        consulBin: 'consul',
        proxyId: 'shop-a-sidecar-proxy',
        serviceId: 'shop-a',
        httpAddr: 'https://127.0.0.1:8501',
        tokenFile: '/etc/meshx/a.token',
        adminBind: '127.0.0.1:19123',
        grpcAddr: '127.0.0.1:8502',
        envoyBin: '/opt/envoy',
      }),
    ).toEqual([
      'consul',
      'connect',
      'envoy',
      '-proxy-id',
      'shop-a-sidecar-proxy',
      '-http-addr',
      'https://127.0.0.1:8501',
      '-token-file',
      '/etc/meshx/a.token',
      '-admin-bind',
      '127.0.0.1:19123',
      '-grpc-addr',
      '127.0.0.1:8502',
      '-envoy-binary',
      '/opt/envoy',
      '--',
      '--disable-hot-restart',
      '--base-id',
      String(envoyBaseId('shop-a')),
    ]);
  });

  test('a token is passed as a file, never as a value on the command line', () => {
    const argv = proxyCommand({
      kind: ProxyKind.BUILTIN,
      consulBin: 'consul',
      proxyId: 'x-sidecar-proxy',
      serviceId: 'x',
      httpAddr: 'http://a',
      tokenFile: '/t',
    });
    expect(argv).not.toContain('-token');
    expect(argv).toContain('-token-file');
  });

  test('envoy without an admin bind is refused', () => {
    expect(() => proxyCommand({ kind: ProxyKind.ENVOY, consulBin: 'consul', proxyId: 'x', serviceId: 'x', httpAddr: 'http://a' })).toThrow(
      /admin bind/,
    );
  });

  test('several Envoys on one host: hot restart off and a distinct base id per service', () => {
    const envoy = (serviceId: string) =>
      proxyCommand({
        kind: ProxyKind.ENVOY,
        consulBin: 'consul',
        proxyId: `${serviceId}-sidecar-proxy`,
        serviceId,
        httpAddr: 'http://a',
        adminBind: '127.0.0.1:1',
      });
    const ids = ['shop-orders', 'shop-billing', 'shop-stock', 'app-1', 'app-2', 'app-10'];
    const baseIds = ids.map((id) => {
      const argv = envoy(id);
      // Envoy's own flags go after `--` (consul connect envoy passes them through).
      const extra = argv.slice(argv.indexOf('--') + 1);
      expect(extra).toContain('--disable-hot-restart');
      return Number(extra[extra.indexOf('--base-id') + 1]);
    });
    expect(new Set(baseIds).size).toBe(ids.length);
    for (const b of baseIds) expect(b).toBeGreaterThan(0);
    for (const b of baseIds) expect(b * 10).toBeLessThan(2 ** 32);
    // Stable across boots: the same service always gets the same id.
    expect(envoyBaseId('shop-orders')).toBe(baseIds[0]);
  });
});

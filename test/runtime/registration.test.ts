import {
  beamCheckId,
  HELPER_PID_META,
  portsFromSidecar,
  serviceDefinition,
  distCheckDefinition,
  distCheckId,
  sidecarId,
} from '../../lib/runtime/registration';
import { validManifest } from '../fixtures/manifests';

describe('service registration', () => {
  const m = validManifest();
  const ports = {
    epmdPort: 4370,
    distPort: 9100,
    sidecarPort: 0,
    upstreams: [
      { ...m.upstreams[0], port: 19001 },
      { ...m.upstreams[1], port: 19002, datacenter: 'dc2' },
    ],
  };

  test('the definition: dist port, TTL check starting critical with reaping, sidecar with one upstream per peer', () => {
    expect(serviceDefinition(m, ports)).toEqual({
      ID: 'shop-orders',
      Name: 'shop-orders',
      Tags: ['orders'],
      Meta: { erlang_node: 'orders@orders-1.shop.test', meshx_mesh: 'shop' },
      Port: 9100,
      Checks: [{
        CheckID: 'shop-orders:beam',
        Name: 'BEAM orders@orders-1.shop.test registered with EPMD, sidecar proxy listening',
        TTL: '15s',
        Status: 'critical',
        Notes: expect.any(String),
        DeregisterCriticalServiceAfter: '1m',
      }],
      Connect: {
        SidecarService: {
          // One TTL check per node: the sidecar only aliases it.
          Checks: [{ CheckID: 'shop-orders:alias', Name: 'Sidecar aliasing shop-orders', AliasService: 'shop-orders' }],
          Proxy: {
            LocalServiceAddress: '127.0.0.1',
            LocalServicePort: 9100,
            Upstreams: [
              { DestinationType: 'service', DestinationName: 'shop-billing', LocalBindAddress: '127.0.0.2', LocalBindPort: 19001 },
              { DestinationType: 'service', DestinationName: 'shop-stock', LocalBindAddress: '127.0.0.3', LocalBindPort: 19002, Datacenter: 'dc2' },
            ],
          },
        },
      },
    });
    expect(sidecarId(m)).toBe('shop-orders-sidecar-proxy');
    expect(beamCheckId(m)).toBe('shop-orders:beam');
  });

  test("the agent's TCP check on the BEAM: registered apart, passing, then carried by every later registration", () => {
    const tcp = {
      Name: 'BEAM orders@orders-1.shop.test accepting distribution connections',
      TCP: '127.0.0.1:9100',
      Interval: '10s',
      Timeout: '2s',
      Status: 'passing',
      Notes: expect.any(String),
      DeregisterCriticalServiceAfter: '1m',
    };
    expect(distCheckDefinition(m, ports)).toEqual({ ID: 'shop-orders:dist', ServiceID: 'shop-orders', ...tcp });
    expect(distCheckId(m)).toBe('shop-orders:dist');
    const checks = (d: any) => d.Checks.map((c: any) => c.CheckID);
    // At boot the BEAM does not listen yet: a first run before it would hold the node critical for 10 s.
    expect(checks(serviceDefinition(m, ports))).toEqual(['shop-orders:beam']);
    const later = serviceDefinition(m, ports, 1, true) as any;
    expect(checks(later)).toEqual(['shop-orders:beam', 'shop-orders:dist']);
    expect(later.Checks[1]).toEqual({ CheckID: 'shop-orders:dist', ...tcp });
  });

  test('no sidecar Port when the agent assigns it; the manifest port, or the one in force, otherwise', () => {
    const side = (d: any) => d.Connect.SidecarService.Port;
    expect(side(serviceDefinition(m, ports))).toBeUndefined();
    expect(side(serviceDefinition({ ...m, sidecar: { ...m.sidecar, port: 21005 } }, ports))).toBe(21005);
    expect(side(serviceDefinition(m, { ...ports, sidecarPort: 21007 }))).toBe(21007);
  });

  test('reads the ports in force back from the agent', () => {
    const back = portsFromSidecar(ports, {
      Port: 21003,
      Address: '',
      Proxy: {
        Upstreams: [
          { DestinationName: 'shop-stock', LocalBindAddress: '127.0.0.3', LocalBindPort: 19102 },
          { DestinationName: 'shop-billing', LocalBindAddress: '127.0.0.2', LocalBindPort: 19101 },
        ],
      },
    });
    expect(back.sidecarPort).toBe(21003);
    expect(back.upstreams.map((u) => [u.service, u.address, u.port])).toEqual([
      ['shop-billing', '127.0.0.2', 19101],
      ['shop-stock', '127.0.0.3', 19102],
    ]);
  });

  test('fails when the agent lost an upstream or assigned no port', () => {
    expect(() => portsFromSidecar(ports, { Port: 21003, Address: '', Proxy: { Upstreams: [] } })).toThrow("no upstream to 'shop-billing'");
    const all = { Upstreams: ports.upstreams.map((u) => ({ DestinationName: u.service, LocalBindPort: u.port })) };
    expect(() => portsFromSidecar(ports, { Port: 0, Address: '', Proxy: all })).toThrow('no port');
  });

  test("the helper's pid goes into the service meta, next to the manifest's", () => {
    const m = validManifest();
    const ports = { epmdPort: 4370, distPort: 9100, sidecarPort: 0, upstreams: m.upstreams };
    expect((serviceDefinition(m, ports, 4242) as any).Meta).toEqual({ ...m.service.meta, [HELPER_PID_META]: '4242' });
    expect((serviceDefinition(m, ports) as any).Meta).toEqual(m.service.meta);
  });
});

import {
  beamCheckId,
  destinationOf,
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

  test('the manifest\'s proxy config is the sidecar\'s Proxy.Config; none, no Config', () => {
    const proxyOf = (d: any) => d.Connect.SidecarService.Proxy;
    expect(proxyOf(serviceDefinition(m, ports))).not.toHaveProperty('Config');
    const config = { handshake_timeout_ms: 5000, telemetry: { statsd_address: '127.0.0.1:8125' } };
    const got = proxyOf(serviceDefinition({ ...m, sidecar: { ...m.sidecar, config } }, ports));
    expect(got.Config).toEqual(config);
    // What the helper sets stands beside it.
    expect(got).toMatchObject({ LocalServiceAddress: '127.0.0.1', LocalServicePort: 9100 });
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

describe('upstreams to group members (prepared queries)', () => {
  const m = validManifest();
  const member = {
    node: 'api@api-2.shop.test',
    service: 'shop-api',
    address: '127.0.0.4',
    port: 19003,
    query: 'meshx~shop~shop-api~api@api-2.shop.test',
  };
  const ports = { distPort: 9100, sidecarPort: 0, upstreams: [{ ...m.upstreams[0], port: 19001 }, member] };

  test('destinationOf: a member by its query, a single node by its service', () => {
    expect(destinationOf(member)).toEqual({ DestinationType: 'prepared_query', DestinationName: member.query });
    expect(destinationOf(m.upstreams[0])).toEqual({ DestinationType: 'service', DestinationName: 'shop-billing' });
    // An empty query is no query.
    expect(destinationOf({ ...member, query: '' })).toEqual({ DestinationType: 'service', DestinationName: 'shop-api' });
  });

  test('the sidecar definition: a prepared_query upstream per member, next to the service upstreams', () => {
    const ups = (serviceDefinition({ ...m, peerGroups: [{ service: 'shop-api', query: 'meshx~shop~' }] }, ports) as any).Connect.SidecarService
      .Proxy.Upstreams;
    expect(ups).toEqual([
      { DestinationType: 'service', DestinationName: 'shop-billing', LocalBindAddress: '127.0.0.2', LocalBindPort: 19001 },
      { DestinationType: 'prepared_query', DestinationName: member.query, LocalBindAddress: '127.0.0.4', LocalBindPort: 19003 },
    ]);
    // The query is the helper's, never a field of Consul's upstream.
    expect(JSON.stringify(ups)).not.toContain('"query"');
  });

  test('two members of one service: one upstream each, told apart by their query', () => {
    const other = { ...member, node: 'api@api-3.shop.test', address: '127.0.0.5', port: 19004, query: 'meshx~shop~shop-api~api@api-3.shop.test' };
    const two = { ...ports, upstreams: [member, other] };
    const def = serviceDefinition(m, two) as any;
    expect(def.Connect.SidecarService.Proxy.Upstreams.map((u: any) => u.DestinationName)).toEqual([member.query, other.query]);
    const back = portsFromSidecar(two, {
      Port: 21003,
      Address: '',
      Proxy: {
        Upstreams: [
          { DestinationName: other.query, LocalBindAddress: '127.0.0.5', LocalBindPort: 19204 },
          { DestinationName: member.query, LocalBindAddress: '127.0.0.4', LocalBindPort: 19203 },
        ],
      },
    });
    expect(back.upstreams.map((u) => [u.node, u.port])).toEqual([[member.node, 19203], [other.node, 19204]]);
  });

  test('portsFromSidecar reads a member back by its query name, keeping the query', () => {
    const back = portsFromSidecar(ports, {
      Port: 21003,
      Address: '',
      Proxy: {
        Upstreams: [
          { DestinationName: member.query, LocalBindAddress: '127.0.0.4', LocalBindPort: 19103 },
          { DestinationName: 'shop-billing', LocalBindAddress: '127.0.0.2', LocalBindPort: 19101 },
          // An upstream to the member's service (not the query) is not the member's.
          { DestinationName: 'shop-api', LocalBindAddress: '127.0.0.9', LocalBindPort: 19999 },
        ],
      },
    });
    expect(back.upstreams).toEqual([
      { ...ports.upstreams[0], port: 19101 },
      { ...member, port: 19103 },
    ]);
  });

  test("portsFromSidecar names the member's query when the agent lost it", () => {
    const onlyService = { Upstreams: [
      { DestinationName: 'shop-billing', LocalBindPort: 19101 },
      { DestinationName: 'shop-api', LocalBindPort: 19103 },
    ] };
    expect(() => portsFromSidecar(ports, { Port: 21003, Address: '', Proxy: onlyService })).toThrow(
      `the agent's sidecar registration has no upstream to '${member.query}'`,
    );
    const noPort = { Upstreams: [
      { DestinationName: 'shop-billing', LocalBindPort: 19101 },
      { DestinationName: member.query, LocalBindPort: 0 },
    ] };
    expect(() => portsFromSidecar(ports, { Port: 21003, Address: '', Proxy: noPort })).toThrow(`no upstream to '${member.query}'`);
  });
});

import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { BeamMesh, ProxyKind } from '../../lib';
import { validateManifest } from '../../lib/manifest/validate';
import { kvManifests, newStack, resources, synthJson } from '../util';

function mesh(props: Partial<ConstructorParameters<typeof BeamMesh>[2]> = {}) {
  const stack = newStack();
  return { stack, mesh: new BeamMesh(stack, 'Mesh', { name: 'shop', ...props }) };
}

describe('BeamNode', () => {
  test('exposes nodeName, serviceName, kvKey, alive and host', () => {
    const { mesh: m } = mesh({ kvPrefix: 'platform/meshx' });
    const n = m.addNode('Orders API', { nodeName: 'orders@api-1.internal' });
    expect(n.nodeName).toBe('orders@api-1.internal');
    expect(n.alive).toBe('orders');
    expect(n.host).toBe('api-1.internal');
    expect(n.serviceName).toBe('shop-orders-api');
    expect(n.kvKey).toBe('platform/meshx/shop/nodes/shop-orders-api');
  });

  test('serviceName overrides the default', () => {
    const { mesh: m } = mesh();
    expect(m.addNode('A', { nodeName: 'a@h.x', serviceName: 'custom-svc' }).serviceName).toBe('custom-svc');
  });

  test('manifest: v1, service with meta, sidecar, ports, sorted upstreams with loopback addresses', () => {
    const { stack, mesh: m } = mesh();
    const a = m.addNode('A', {
      nodeName: 'app@h1.x',
      distPort: 9100,
      sidecarPort: 21000,
      epmdPort: 4370,
      tags: ['t1'],
      meta: { team: 'x' },
      ttl: '10s',
      deregisterCriticalAfter: '2m',
    });
    const c = m.addNode('C', { nodeName: 'app@h3.x' });
    const b = m.addNode('B', { nodeName: 'app@h2.x', proxy: ProxyKind.BUILTIN });
    const local = m.addNode('Local', { nodeName: 'worker@h1.x' });
    m.connect(a, c);
    m.connect(a, b);
    m.connect(a, local);
    expect(a.manifest).toEqual({
      apiVersion: 'meshx-node/v1',
      mesh: 'shop',
      node: 'app@h1.x',
      service: {
        id: 'shop-a',
        name: 'shop-a',
        tags: ['t1'],
        meta: { team: 'x', erlang_node: 'app@h1.x', meshx_mesh: 'shop' },
        distPort: 9100,
        ttl: '10s',
        deregisterCriticalAfter: '2m',
      },
      sidecar: { port: 21000, proxy: 'envoy' },
      upstreams: [
        { node: 'app@h2.x', service: 'shop-b', address: '127.0.0.2', port: 0 },
        { node: 'app@h3.x', service: 'shop-c', address: '127.0.0.3', port: 0 },
        // a peer on the node's own host is reached on 127.0.0.1
        { node: 'worker@h1.x', service: 'shop-local', address: '127.0.0.1', port: 0 },
      ],
      epmdPort: 4370,
    });
    expect(b.manifest.sidecar.proxy).toBe('builtin');
    // Defaults: a TTL long enough that an idle helper wakes every 100 s; Consul's minimum reaping delay.
    expect([c.manifest.service.ttl, c.manifest.service.deregisterCriticalAfter]).toEqual(['5m', '1m']);
    expect(() => validateManifest(JSON.parse(JSON.stringify(a.manifest)))).not.toThrow();
    // What is written to KV is exactly the manifest, parseable on its own.
    expect(kvManifests(synthJson(stack))['meshx/shop/nodes/shop-a']).toEqual(a.manifest);
  });

  test('proxyConfig lands in the manifest\'s sidecar.config; without it the field is left out', () => {
    const { stack, mesh: m } = mesh();
    const proxyConfig = { envoy_prometheus_bind_addr: '0.0.0.0:9102', local_connect_timeout_ms: 500 };
    const a = m.addNode('A', { nodeName: 'a@h1.x', proxyConfig });
    const b = m.addNode('B', { nodeName: 'b@h2.x' });
    expect(a.manifest.sidecar).toEqual({ port: 0, proxy: 'envoy', config: proxyConfig });
    expect(b.manifest.sidecar).toEqual({ port: 0, proxy: 'envoy' });
    expect(kvManifests(synthJson(stack))['meshx/shop/nodes/shop-a'].sidecar.config.local_connect_timeout_ms).toBe(500);
  });

  test('a proxyConfig key the helper owns fails at construction, naming the node\'s path', () => {
    const { mesh: m } = mesh();
    expect(() => m.addNode('A', { nodeName: 'a@h1.x', proxyConfig: { bind_address: '0.0.0.0' } })).toThrow(
      /^\[test\/Mesh\/A\] proxyConfig\.bind_address is set by meshx-node and cannot be overridden/,
    );
  });

  test('two peers on one host share that host\'s address', () => {
    const { mesh: m } = mesh();
    const a = m.addNode('A', { nodeName: 'a@h1.x' });
    const b = m.addNode('B', { nodeName: 'b@h2.x' });
    const c = m.addNode('C', { nodeName: 'c@h2.x' });
    m.connectAll();
    expect(a.manifest.upstreams.map((u) => u.address)).toEqual(['127.0.0.2', '127.0.0.2']);
    expect(b.manifest.upstreams.map((u) => [u.node, u.address])).toEqual([['a@h1.x', '127.0.0.2'], ['c@h2.x', '127.0.0.1']]);
    expect(c.manifest.upstreams).toHaveLength(2);
  });

  describe('peer hosts past 127.0.0.254 (the whole 127.0.0.0/8)', () => {
    /** A hub dialling `n` nodes, each on its own host, named so that name order is creation order. */
    function hub(n: number) {
      const { stack, mesh: m } = mesh({ acl: false });
      const h = m.addNode('Hub', { nodeName: 'hub@hub.x' });
      for (let i = 0; i < n; i++) {
        m.connect(h, m.addNode(`N${i}`, { nodeName: `app@h${String(i).padStart(4, '0')}.x` }), { bidirectional: false });
      }
      return { stack, hub: h };
    }

    test('254 peer hosts synthesize: the 254th is on 127.0.0.255', () => {
      const { stack, hub: h } = hub(254);
      const written = kvManifests(synthJson(stack))['meshx/shop/nodes/shop-hub'];
      expect(written).toEqual(h.manifest);
      expect(written.upstreams.map((u: any) => u.address).slice(-3)).toEqual(['127.0.0.253', '127.0.0.254', '127.0.0.255']);
    });

    test('1,000 peer hosts synthesize to 127.0.0.2 … 127.0.3.233, consecutive and the same every time', () => {
      const first = hub(1000);
      const json = Testing.synth(first.stack);
      const written = kvManifests(JSON.parse(json))['meshx/shop/nodes/shop-hub'];
      const addresses: string[] = written.upstreams.map((u: any) => u.address);
      const numbers = addresses.map((a) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0));
      expect(addresses[0]).toBe('127.0.0.2');
      expect(addresses.slice(253, 256)).toEqual(['127.0.0.255', '127.0.1.0', '127.0.1.1']);
      expect(addresses[999]).toBe('127.0.3.233');
      expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1] + 1)).toBe(true);
      expect(Testing.synth(hub(1000).stack)).toBe(json);
    });
  });

  test('the KV entry is deleted on destroy and holds no Terraform reference', () => {
    const { stack, mesh: m } = mesh({ datacenter: 'dc9' });
    m.addNode('A', { nodeName: 'a@h.x' });
    const [kv] = resources(synthJson(stack), 'consul_keys');
    expect(kv.datacenter).toBe('dc9');
    expect(kv.key).toEqual([{ path: 'meshx/shop/nodes/shop-a', value: expect.any(String), delete: true }]);
    expect(kv.key[0].value).not.toMatch(/\$\{/);
  });

  describe('fails', () => {
    test.each([
      ['noat', /nodeName 'noat' must be 'alive@host'/],
      ['a@', /must be 'alive@host'/],
      ['@host', /must be 'alive@host'/],
      ['a b@host', /must be 'alive@host'/],
      ['a@ho st', /must be 'alive@host'/],
      ['a@b@c', /must be 'alive@host'/],
      ['a@-host', /must be 'alive@host'/],
    ])('on nodeName %s', (nodeName, msg) => {
      expect(() => mesh().mesh.addNode('N', { nodeName })).toThrow(msg);
    });

    test.each([
      ['Upper', /serviceName 'Upper' must be a lowercase DNS label/],
      ['under_score', /must be a lowercase DNS label/],
      ['x'.repeat(64), /must be a lowercase DNS label/],
      ['end-', /must be a lowercase DNS label/],
      ['web-sidecar-proxy', /must not end in '-sidecar-proxy'/],
    ])('on serviceName %s', (serviceName, msg) => {
      expect(() => mesh().mesh.addNode('N', { nodeName: 'a@h.x', serviceName })).toThrow(msg);
    });

    test('when no service name can be derived from the id', () => {
      expect(() => mesh().mesh.addNode('___', { nodeName: 'a@h.x' })).toThrow(/\[test\/Mesh\/___\] cannot derive a service name .* set serviceName/);
      expect(() => mesh().mesh.addNode('x'.repeat(70), { nodeName: 'a@h.x' })).toThrow(/cannot derive a service name/);
    });

    test('on more peers than a manifest carries (4,096 upstreams): the binding limit, not the 16,777,213 addresses', () => {
      const { stack, mesh: m } = mesh({ acl: false });
      const h = m.addNode('Hub', { nodeName: 'hub@hub.x' });
      for (let i = 0; i <= 4096; i++) m.connect(h, m.addNode(`N${i}`, { nodeName: `app@h${i}.x` }), { bidirectional: false });
      expect(() => Testing.synth(stack)).toThrow(
        '[test/Mesh/Hub] too many peers: 4097 exceed the 4096 upstreams of a node manifest; split the mesh or connect fewer nodes',
      );
    });

    test('on a duplicate node name, naming both paths', () => {
      const { mesh: m } = mesh();
      m.addNode('A', { nodeName: 'a@h.x' });
      expect(() => m.addNode('B', { nodeName: 'a@h.x' })).toThrow("[test/Mesh/B] node name 'a@h.x' is already used by test/Mesh/A");
    });

    test('on a duplicate service name', () => {
      const { mesh: m } = mesh();
      m.addNode('A', { nodeName: 'a@h.x', serviceName: 'svc' });
      expect(() => m.addNode('B', { nodeName: 'b@h.x', serviceName: 'svc' })).toThrow(
        "[test/Mesh/B] service name 'svc' is already used by test/Mesh/A",
      );
    });

    test.each([
      ['distPort', -1],
      ['distPort', 65536],
      ['sidecarPort', 1.5],
      ['epmdPort', 100000],
    ])('on %s %d', (field, port) => {
      expect(() => mesh().mesh.addNode('N', { nodeName: 'a@h.x', [field]: port })).toThrow(
        new RegExp(`${field} must be an integer from 1 to 65535 \\(or 0 to pick one at boot\\), got ${port}`),
      );
    });

    test('on two fixed ports of one node that clash', () => {
      expect(() => mesh().mesh.addNode('N', { nodeName: 'a@h.x', distPort: 4369, epmdPort: 4369 })).toThrow(
        '[test/Mesh/N] distPort and epmdPort are both 4369',
      );
    });

    test('on fixed ports that clash between nodes on the same host', () => {
      const { mesh: m } = mesh();
      m.addNode('A', { nodeName: 'a@h.x', sidecarPort: 21000 });
      expect(() => m.addNode('B', { nodeName: 'b@h.x', distPort: 21000 })).toThrow(
        "[test/Mesh/B] distPort 21000 clashes with sidecarPort of test/Mesh/A on the same host 'h.x'",
      );
      // on another host the same port is fine
      expect(() => m.addNode('C', { nodeName: 'c@other.x', distPort: 21000 })).not.toThrow();
    });

    test.each([
      [{ meta: { erlang_node: 'x' } }, /meta key 'erlang_node' is set by meshx-node/],
      [{ meta: { 'bad key': 'x' } }, /meta key 'bad key' must be 1 to 128 characters/],
      [{ meta: { k: '${var.x}' } }, /meta.k must not contain Terraform template syntax/],
      [{ tags: [''] }, /tags\[0\] must be 1 to 255 characters/],
      [{ ttl: 'soon' }, /ttl 'soon' must be a duration/],
      [{ deregisterCriticalAfter: '5' }, /deregisterCriticalAfter '5' must be a duration/],
      // Values Consul would reject (or silently raise) are refused at synth.
      [{ ttl: '900ms' }, /\[test\/Mesh\/N\] ttl '900ms' is under Consul's minimum TTL of 1s/],
      [{ deregisterCriticalAfter: '30s' }, /\[test\/Mesh\/N\] deregisterCriticalAfter '30s' is under Consul's minimum of 1m/],
      [{ sidecarPort: 9100, distPort: 9100 }, /distPort and sidecarPort are both 9100/],
      [{ sidecarPort: 4370, epmdPort: 4370 }, /sidecarPort and epmdPort are both 4370/],
    ])('on %j', (props, msg) => {
      expect(() => mesh().mesh.addNode('N', { nodeName: 'a@h.x', ...props })).toThrow(msg);
    });
  });
});

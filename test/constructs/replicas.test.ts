import 'cdktf/lib/testing/adapters/jest';
import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Testing } from 'cdktf';
import { BeamMesh, BeamNode, BeamReplicas, IntentionsMode, ProxyKind } from '../../lib';
import { queryTemplateName, resolveReplica } from '../../lib/manifest/replicas';
import { validateGroupManifest, validateManifest } from '../../lib/manifest/validate';
import { kvManifests, newStack, resources, synthJson } from '../util';

function mesh(props: Partial<ConstructorParameters<typeof BeamMesh>[2]> = {}) {
  const stack = newStack();
  return { stack, mesh: new BeamMesh(stack, 'Mesh', { name: 'shop', ...props }) };
}

describe('BeamReplicas', () => {
  test('exposes alive, serviceName, kvKey, proxy, connectReplicas and its kind', () => {
    const { mesh: m } = mesh({ kvPrefix: 'platform/meshx', proxy: ProxyKind.BUILTIN });
    const g = m.addReplicas('Api Servers', { alive: 'api' });
    expect(g).toBeInstanceOf(BeamReplicas);
    expect(g.alive).toBe('api');
    expect(g.serviceName).toBe('shop-api-servers');
    expect(g.kvKey).toBe('platform/meshx/shop/groups/shop-api-servers');
    expect(g.proxy).toBe(ProxyKind.BUILTIN);
    expect(g.connectReplicas).toBe(true);
    expect(g.isGroup).toBe(true);
    expect(g.displayName).toBe('api@* (group shop-api-servers)');
    expect(g.mesh).toBe(m);
    expect(m.groups).toEqual([g]);
    expect(m.nodes).toEqual([]);
  });

  test('proxyConfig lands in the group manifest\'s sidecar.config; an owned key fails with the group\'s path', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api', proxyConfig: { handshake_timeout_ms: 2000 } });
    expect(g.manifest.sidecar).toEqual({ port: 0, proxy: 'envoy', config: { handshake_timeout_ms: 2000 } });
    expect(() => m.addReplicas('Web', { alive: 'web', proxyConfig: { protocol: 'http' } })).toThrow(
      /^\[test\/Mesh\/Web\] proxyConfig\.protocol is set by meshx-node/,
    );
  });

  test('serviceName and proxy override the defaults', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('A', { alive: 'a', serviceName: 'custom-svc', proxy: ProxyKind.BUILTIN });
    expect(g.serviceName).toBe('custom-svc');
    expect(g.proxy).toBe(ProxyKind.BUILTIN);
  });

  test('manifest: every prop, no service id, no erlang_node, sidecar port 0, its own group as a peer', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('Api', {
      alive: 'api_1',
      distPort: 9100,
      epmdPort: 4370,
      tags: ['t1'],
      meta: { team: 'x' },
      proxy: ProxyKind.BUILTIN,
      ttl: '10s',
      deregisterCriticalAfter: '2m',
    });
    expect(g.manifest).toEqual({
      apiVersion: 'meshx-node/v1',
      mesh: 'shop',
      group: { alive: 'api_1' },
      service: {
        name: 'shop-api',
        tags: ['t1'],
        meta: { team: 'x', meshx_mesh: 'shop' },
        distPort: 9100,
        ttl: '10s',
        deregisterCriticalAfter: '2m',
      },
      sidecar: { port: 0, proxy: 'builtin' },
      upstreams: [],
      peerGroups: [{ service: 'shop-api', query: queryTemplateName('shop') }],
      epmdPort: 4370,
    });
    expect(validateGroupManifest(JSON.parse(JSON.stringify(g.manifest)))).toEqual(g.manifest);
  });

  test('manifest defaults: ports 0, ttl 5m, deregister 1m, no tags, the mesh proxy', () => {
    const { mesh: m } = mesh();
    const s = m.addReplicas('Api', { alive: 'api' }).manifest;
    expect(s.service).toEqual({ name: 'shop-api', tags: [], meta: { meshx_mesh: 'shop' }, distPort: 0, ttl: '5m', deregisterCriticalAfter: '1m' });
    expect(s.sidecar).toEqual({ port: 0, proxy: m.proxy });
    expect(s.epmdPort).toBe(0);
  });

  test('connectReplicas: false leaves its own group out of its peers and its manifest', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api', connectReplicas: false });
    expect(g.connectReplicas).toBe(false);
    expect(g.peers).toEqual([]);
    expect(g.manifest.peerGroups).toEqual([]);
  });

  test('upstreams: single-node peers numbered by host from 127.0.0.2, never 127.0.0.1; peer groups sorted by service', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api', connectReplicas: false });
    const nodes = [
      m.addNode('Db', { nodeName: 'db@h2.x' }),
      m.addNode('Cache', { nodeName: 'cache@h1.x' }),
      m.addNode('Db2', { nodeName: 'db2@h2.x' }),
    ];
    const others = [m.addReplicas('Zeta', { alive: 'zeta' }), m.addReplicas('Alpha', { alive: 'alpha' })];
    for (const p of [...nodes, ...others]) m.connect(g, p, { bidirectional: false });
    const { upstreams, peerGroups } = g.manifest;
    expect(upstreams).toEqual([
      { node: 'cache@h1.x', service: 'shop-cache', address: '127.0.0.2', port: 0 },
      { node: 'db2@h2.x', service: 'shop-db2', address: '127.0.0.3', port: 0 },
      { node: 'db@h2.x', service: 'shop-db', address: '127.0.0.3', port: 0 },
    ]);
    expect(peerGroups.map((p) => p.service)).toEqual(['shop-alpha', 'shop-zeta']);
    // A replica on h1 reaches cache@h1.x through its own address, as resolveReplica moves it.
    const replica = resolveReplica(g.manifest, 'api@h1.x');
    expect(validateManifest(JSON.parse(JSON.stringify(replica))).upstreams[0].address).toBe('127.0.0.1');
  });

  test('emits service-defaults, a static token and a policy on its group key, and the manifest in KV', () => {
    const { stack, mesh: m } = mesh({ datacenter: 'dc1' });
    const g = m.addReplicas('Api', { alive: 'api' });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(ConfigEntry, { kind: 'service-defaults', name: 'shop-api', config_json: '{"Protocol":"tcp"}' });
    const json = JSON.parse(synth);
    const [token] = resources(json, 'consul_acl_token');
    expect(token.service_identities).toEqual([{ service_name: 'shop-api', datacenters: ['dc1'] }]);
    expect(token.description).toBe('meshx-node: api@* (shop-api)');
    const [policy] = resources(json, 'consul_acl_policy');
    expect(policy.rules).toContain(`key "${g.kvKey}" {\n  policy = "read"\n}`);
    expect(g.token).toBeDefined();
    expect(g.role).toBeUndefined();
    expect(g.serviceDefaults).toBeInstanceOf(ConfigEntry);
    expect(kvManifests(json)[g.kvKey]).toEqual(g.manifest);
    expect(resources(json, 'consul_keys')[0].datacenter).toBe('dc1');
  });

  test('acl: false makes no token', () => {
    const { stack, mesh: m } = mesh({ acl: false });
    expect(m.addReplicas('Api', { alive: 'api' }).token).toBeUndefined();
    expect(resources(synthJson(stack), 'consul_acl_token')).toHaveLength(0);
  });

  test('intentions as a destination, like a node, plus svc -> svc in both modes', () => {
    for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
      const { stack, mesh: m } = mesh({ intentionsMode: mode });
      const g = m.addReplicas('Api', { alive: 'api' });
      const n = m.addNode('Web', { nodeName: 'web@h1.x' });
      m.connect(n, g, { bidirectional: false });
      expect(allowsTo(synthJson(stack), g.serviceName)).toEqual(['shop-api', 'shop-web', '*:deny']);
    }
  });

  test('connectReplicas: false has no svc -> svc allow in either mode', () => {
    for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
      const { stack, mesh: m } = mesh({ intentionsMode: mode });
      const g = m.addReplicas('Api', { alive: 'api', connectReplicas: false });
      m.connect(m.addNode('Web', { nodeName: 'web@h1.x' }), g, { bidirectional: false });
      expect(allowsTo(synthJson(stack), g.serviceName)).toEqual(['shop-web', '*:deny']);
    }
  });

  test('a node connected to a group gets peerGroups; one that is not keeps its manifest without the field', () => {
    const { stack, mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api' });
    const web = m.addNode('Web', { nodeName: 'web@h1.x' });
    const lone = m.addNode('Lone', { nodeName: 'lone@h2.x' });
    m.connect(web, g);
    m.connect(web, lone, { bidirectional: false });
    const kv = kvManifests(synthJson(stack));
    expect(kv[web.kvKey].peerGroups).toEqual([{ service: 'shop-api', query: 'meshx~shop~' }]);
    expect(kv[web.kvKey].upstreams.map((u: any) => u.node)).toEqual(['lone@h2.x']);
    expect(Object.keys(kv[lone.kvKey])).not.toContain('peerGroups');
    expect(kv[g.kvKey].upstreams).toEqual([{ node: 'web@h1.x', service: 'shop-web', address: '127.0.0.2', port: 0 }]);
    expect(validateManifest(kv[web.kvKey])).toBeTruthy();
  });

  test('the group manifest follows connections made after it', () => {
    const { stack, mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api' });
    expect(kvManifests(synthJson(stack))[g.kvKey].upstreams).toEqual([]);
    m.connect(g, m.addNode('Db', { nodeName: 'db@h9.x' }));
    expect(kvManifests(synthJson(stack))[g.kvKey].upstreams.map((u: any) => u.node)).toEqual(['db@h9.x']);
  });

  test('peers: the members the group may dial, itself first by display name', () => {
    const { mesh: m } = mesh();
    const g = m.addReplicas('Api', { alive: 'api' });
    const b = m.addNode('B', { nodeName: 'b@h.x' });
    m.connect(g, b);
    expect(g.peers).toEqual([g, b]);
    expect(b.peers).toEqual([g]);
    expect(b.peers[0]).not.toBeInstanceOf(BeamNode);
  });

  test('the group manifest is validated at synth, the error naming the group and the field', () => {
    const { stack, mesh: m } = mesh();
    // 64 keys of its own plus meshx_mesh: more meta keys than a manifest (and Consul) allows.
    const meta = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v']));
    m.addReplicas('Api', { alive: 'api', meta });
    expect(() => Testing.synth(stack)).toThrow(/\[test\/Mesh\/Api\] manifest field 'service\.meta' /);
  });

  describe('fails naming the path and the prop', () => {
    test.each([
      [{ alive: 'has@at' }, /\[test\/Mesh\/Api\] alive 'has@at' must be the part of a node name before '@'/],
      [{ alive: '' }, /alive '' must be/],
      [{ alive: 'a', serviceName: 'Bad' }, /\[test\/Mesh\/Api\] serviceName 'Bad' must be a lowercase DNS label/],
      [{ alive: 'a', serviceName: 'x-sidecar-proxy' }, /must not end in '-sidecar-proxy'/],
      [{ alive: 'a', distPort: 4370, epmdPort: 4370 }, /\[test\/Mesh\/Api\] distPort and epmdPort are both 4370/],
      [{ alive: 'a', epmdPort: 70000 }, /epmdPort must be an integer from 1 to 65535/],
      [{ alive: 'a', ttl: 'soon' }, /\[test\/Mesh\/Api\] ttl 'soon' must be a duration/],
      [{ alive: 'a', ttl: '500ms' }, /ttl '500ms' is under Consul's minimum TTL/],
      [{ alive: 'a', deregisterCriticalAfter: '30s' }, /deregisterCriticalAfter '30s' is under Consul's minimum of 1m/],
      [{ alive: 'a', meta: { erlang_node: 'x' } }, /meta key 'erlang_node' is set by meshx-node/],
      [{ alive: 'a', tags: [''] }, /tags\[0\] must be 1 to/],
      [{ alive: '${var.x}' }, /alive must not contain Terraform template syntax/],
    ])('%j', (props, message) => {
      expect(() => mesh().mesh.addReplicas('Api', props)).toThrow(message);
    });

    test('alive longer than 255 characters', () => {
      expect(() => mesh().mesh.addReplicas('Api', { alive: 'a'.repeat(256) })).toThrow(/alive 'a{256}' must be/);
      expect(mesh().mesh.addReplicas('Api', { alive: 'a'.repeat(255) }).alive).toHaveLength(255);
    });
  });
});

/** Allowed sources of a destination service (and `*:deny`), in either intentions mode, in the order written. */
function allowsTo(json: any, dest: string): string[] {
  const entry = resources(json, 'consul_config_entry').find((e) => e.kind === 'service-intentions' && e.name === dest);
  if (entry) return JSON.parse(entry.config_json).Sources.map((s: any) => (s.Action === 'allow' ? s.Name : `${s.Name}:${s.Action}`));
  const legacy = resources(json, 'consul_intention').filter((i) => i.destination_name === dest);
  const allows = legacy.filter((i) => i.action === 'allow').map((i) => i.source_name).sort();
  return [...allows, ...legacy.filter((i) => i.action !== 'allow').map((i) => `${i.source_name}:${i.action}`)];
}

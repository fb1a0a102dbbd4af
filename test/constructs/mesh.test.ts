import 'cdktf/lib/testing/adapters/jest';
import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Intention } from '@cdktf/provider-consul/lib/intention';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { Aspects, Testing } from 'cdktf';
import { PreparedQuery } from '@cdktf/provider-consul/lib/prepared-query';
import { BeamMesh, IntentionsMode, ProxyKind, ReplicaQueryTemplate } from '../../lib';
import { queryTemplateDefinition } from '../../lib/manifest/replicas';
import { kvManifests, newStack, resources, synthJson } from '../util';

describe('BeamMesh', () => {
  test('defaults: CONFIG_ENTRY, default deny, ACL on, kv prefix meshx, Envoy', () => {
    // GIVEN
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    // THEN
    expect(mesh.intentionsMode).toBe(IntentionsMode.CONFIG_ENTRY);
    expect(mesh.defaultDeny).toBe(true);
    expect(mesh.acl).toBe(true);
    expect(mesh.kvPrefix).toBe('meshx');
    expect(mesh.proxy).toBe(ProxyKind.ENVOY);
    expect(BeamMesh.isBeamMesh(mesh)).toBe(true);
    expect(BeamMesh.isBeamMesh(stack)).toBe(false);
  });

  test('connect() is bidirectional by default and one-way on request', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    const c = mesh.addNode('C', { nodeName: 'c@h3.x' });
    mesh.connect(a, b);
    mesh.connect(c, a, { bidirectional: false });
    expect(mesh.edges.map((e) => `${e.from.displayName}>${e.to.displayName}`)).toEqual(['a@h1.x>b@h2.x', 'b@h2.x>a@h1.x', 'c@h3.x>a@h1.x']);
    expect(a.peers).toEqual([b]);
    expect(c.peers).toEqual([a]);
    expect(mesh.sourcesOf(a)).toEqual([b, c]);
  });

  test('connectAll() includes nodes added after the call', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: IntentionsMode.LEGACY });
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    mesh.connectAll();
    mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.addNode('C', { nodeName: 'c@h3.x' });
    const json = synthJson(stack);
    const allows = resources(json, 'consul_intention').filter((i) => i.action === 'allow');
    expect(allows.map((i) => `${i.source_name}>${i.destination_name}`).sort()).toEqual([
      'm-a>m-b',
      'm-a>m-c',
      'm-b>m-a',
      'm-b>m-c',
      'm-c>m-a',
      'm-c>m-b',
    ]);
    const manifests = kvManifests(json);
    expect(manifests['meshx/m/nodes/m-a'].upstreams.map((u: any) => u.node)).toEqual(['b@h2.x', 'c@h3.x']);
  });

  test('CONFIG_ENTRY: one service-intentions entry per destination, every allowed source, then * deny', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    const c = mesh.addNode('C', { nodeName: 'c@h3.x' });
    mesh.connect(a, b);
    mesh.connect(c, b, { bidirectional: false });
    const json = synthJson(stack);
    const entries = resources(json, 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
    expect(entries.map((e) => e.name).sort()).toEqual(['m-a', 'm-b', 'm-c']);
    const forB = JSON.parse(entries.find((e) => e.name === 'm-b').config_json);
    expect(forB.Sources).toEqual([
      { Name: 'm-a', Action: 'allow', Precedence: 9, Type: 'consul', Description: 'meshx-node: a@h1.x -> b@h2.x' },
      { Name: 'm-c', Action: 'allow', Precedence: 9, Type: 'consul', Description: 'meshx-node: c@h3.x -> b@h2.x' },
      { Name: '*', Action: 'deny', Precedence: 8, Type: 'consul', Description: 'meshx-node: default deny for b@h2.x' },
    ]);
    const forC = JSON.parse(entries.find((e) => e.name === 'm-c').config_json);
    expect(forC.Sources).toEqual([expect.objectContaining({ Name: '*', Action: 'deny' })]);
    expect(JSON.stringify(json)).not.toHaveResource(Intention);
  });

  test('CONFIG_ENTRY without default deny: no entry for a node nobody may dial', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', defaultDeny: false });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connect(a, b, { bidirectional: false });
    const entries = resources(synthJson(stack), 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
    expect(entries).toHaveLength(1);
    expect(entries[0].name).toBe('m-b');
    expect(JSON.parse(entries[0].config_json).Sources.map((s: any) => s.Name)).toEqual(['m-a']);
  });

  test('LEGACY: one consul_intention per allowed pair plus a * deny per node', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: IntentionsMode.LEGACY, datacenter: 'dc1' });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connect(a, b, { bidirectional: false });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(Intention, { source_name: 'm-a', destination_name: 'm-b', action: 'allow', datacenter: 'dc1' });
    expect(synth).toHaveResourceWithProperties(Intention, { source_name: '*', destination_name: 'm-b', action: 'deny' });
    expect(synth).toHaveResourceWithProperties(Intention, { source_name: '*', destination_name: 'm-a', action: 'deny' });
    expect(resources(JSON.parse(synth), 'consul_intention')).toHaveLength(3);
    expect(resources(JSON.parse(synth), 'consul_config_entry').filter((e) => e.kind === 'service-intentions')).toHaveLength(0);
  });

  test('LEGACY without default deny: allows only', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: IntentionsMode.LEGACY, defaultDeny: false });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connect(a, b);
    const intentions = resources(synthJson(stack), 'consul_intention');
    expect(intentions.map((i) => i.action)).toEqual(['allow', 'allow']);
  });

  test('the provider is passed to every resource', () => {
    const stack = newStack();
    const other = new ConsulProvider(stack, 'dc2', { alias: 'dc2', datacenter: 'dc2' });
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', provider: other, intentionsMode: IntentionsMode.LEGACY });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connect(a, b);
    const json = synthJson(stack);
    const all = Object.values(json.resource).flatMap((byName: any) => Object.values(byName)) as any[];
    expect(all.length).toBe(2 /*defaults*/ + 4 /*acl*/ + 2 /*kv*/ + 4 /*intentions*/);
    for (const r of all) expect(r.provider).toBe('consul.dc2');
  });

  test('never creates a provider itself', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    expect(synthJson(stack).provider.consul).toHaveLength(1);
  });

  test('ACL off: no policies, no tokens, node.token undefined', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', acl: false });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const json = synthJson(stack);
    expect(a.token).toBeUndefined();
    expect(resources(json, 'consul_acl_token')).toHaveLength(0);
    expect(resources(json, 'consul_acl_policy')).toHaveLength(0);
  });

  test('connectAll() with nodes that were also connected by hand: one intention per pair', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: IntentionsMode.LEGACY, defaultDeny: false });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connect(a, b);
    mesh.connectAll();
    mesh.connect(b, a);
    mesh.connectAll();
    const allows = resources(synthJson(stack), 'consul_intention').map((i) => `${i.source_name}>${i.destination_name}`);
    expect(allows.sort()).toEqual(['m-a>m-b', 'm-b>m-a']);
  });

  test('CONFIG_ENTRY without default deny: an entry appears with the first node that may dial it', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', defaultDeny: false });
    mesh.connectAll();
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    const intentions = () => resources(synthJson(stack), 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
    expect(intentions()).toHaveLength(0);
    mesh.addNode('B', { nodeName: 'b@h2.x' });
    expect(intentions().map((e) => `${e.name}<${JSON.parse(e.config_json).Sources.map((x: any) => x.Name)}`).sort()).toEqual(['m-a<m-b', 'm-b<m-a']);
  });

  test('adds no aspect: nothing it emits waits for one (a second copy of cdktf would never run it)', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    mesh.connect(mesh.addNode('A', { nodeName: 'a@h1.x' }), mesh.addNode('B', { nodeName: 'b@h2.x' }));
    for (const c of [stack, ...stack.node.findAll()]) expect(Aspects.of(c).all).toHaveLength(0);
  });

  test('a node or connection added after a synth is in the next synth', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    expect(kvManifests(synthJson(stack))['meshx/m/nodes/m-a'].upstreams).toEqual([]);
    mesh.connect(a, mesh.addNode('B', { nodeName: 'b@h2.x' }));
    const json = synthJson(stack);
    expect(kvManifests(json)['meshx/m/nodes/m-a'].upstreams.map((u: any) => u.node)).toEqual(['b@h2.x']);
    const forA = resources(json, 'consul_config_entry').find((e) => e.kind === 'service-intentions' && e.name === 'm-a');
    expect(JSON.parse(forA.config_json).Sources.map((x: any) => x.Name)).toEqual(['m-b', '*']);
  });

  test('the same stack synthesizes twice to the same JSON', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    mesh.addNode('B', { nodeName: 'b@h2.x' });
    mesh.connectAll();
    expect(Testing.synth(stack)).toEqual(Testing.synth(stack));
    expect(resources(synthJson(stack), 'consul_config_entry')).toHaveLength(4);
  });

  test('uses ConfigEntry for service-defaults in both modes', () => {
    for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
      const stack = newStack();
      new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: mode }).addNode('A', { nodeName: 'a@h1.x' });
      expect(Testing.synth(stack)).toHaveResourceWithProperties(ConfigEntry, {
        kind: 'service-defaults',
        name: 'm-a',
        config_json: '{"Protocol":"tcp"}',
      });
    }
  });

  describe('replica groups', () => {
    test('replicaQuery: TERRAFORM with CONFIG_ENTRY, OPERATOR with LEGACY, unless set', () => {
      const stack = newStack();
      const at = (id: string, props: object) => new BeamMesh(stack, id, { name: id.toLowerCase(), ...props }).replicaQuery;
      expect(at('A', {})).toBe(ReplicaQueryTemplate.TERRAFORM);
      expect(at('B', { intentionsMode: IntentionsMode.LEGACY })).toBe(ReplicaQueryTemplate.OPERATOR);
      expect(at('C', { intentionsMode: IntentionsMode.LEGACY, replicaQuery: ReplicaQueryTemplate.TERRAFORM })).toBe(ReplicaQueryTemplate.TERRAFORM);
      expect(at('D', { replicaQuery: ReplicaQueryTemplate.OPERATOR })).toBe(ReplicaQueryTemplate.OPERATOR);
    });

    test('TERRAFORM: one prepared-query template, made with the first group, as Consul takes it once Terraform unescapes $${', () => {
      const stack = newStack();
      const other = new ConsulProvider(stack, 'dc2', { alias: 'dc2', datacenter: 'dc2' });
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop', datacenter: 'dc2', provider: other });
      mesh.addNode('A', { nodeName: 'a@h1.x' });
      expect(mesh.preparedQuery).toBeUndefined();
      expect(resources(synthJson(stack), 'consul_prepared_query')).toHaveLength(0);
      mesh.addReplicas('Api', { alive: 'api' });
      mesh.addReplicas('Worker', { alive: 'worker' });
      const text = Testing.synth(stack);
      const [q] = resources(JSON.parse(text), 'consul_prepared_query');
      expect(resources(JSON.parse(text), 'consul_prepared_query')).toHaveLength(1);
      expect(mesh.preparedQuery).toBeInstanceOf(PreparedQuery);
      // Terraform reads `$${` as a literal `${`: what Consul then gets must be the runtime's definition.
      const unescape = (v: string) => v.replace(/\$\$\{/g, '${');
      const def = queryTemplateDefinition('shop') as any;
      expect(text).toContain('"service": "$${match(1)}"');
      expect(text).toContain('"erlang_node": "$${match(2)}"');
      expect({
        Name: q.name,
        Template: { Type: q.template.type, Regexp: q.template.regexp },
        Service: {
          Service: unescape(q.service),
          ServiceMeta: Object.fromEntries(Object.entries<string>(q.service_meta).map(([k, v]) => [k, unescape(v)])),
          OnlyPassing: q.only_passing,
        },
      }).toEqual(def);
      expect(q.datacenter).toBe('dc2');
      expect(q.provider).toBe('consul.dc2');
    });

    test('OPERATOR (the LEGACY default): no prepared query in the stack', () => {
      for (const props of [{ intentionsMode: IntentionsMode.LEGACY }, { replicaQuery: ReplicaQueryTemplate.OPERATOR }]) {
        const stack = newStack();
        const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', ...props });
        mesh.addReplicas('Api', { alive: 'api' });
        expect(mesh.preparedQuery).toBeUndefined();
        expect(resources(synthJson(stack), 'consul_prepared_query')).toHaveLength(0);
      }
    });

    test('connect() takes nodes and groups alike; edges, peersOf and sourcesOf list both', () => {
      const mesh = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
      const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
      const g = mesh.addReplicas('G', { alive: 'g' });
      const w = mesh.addReplicas('W', { alive: 'w', connectReplicas: false });
      mesh.connect(a, g);
      mesh.connect(g, w, { bidirectional: false });
      expect(mesh.edges.map((e) => `${e.from.displayName} > ${e.to.displayName}`)).toEqual([
        'a@h1.x > g@* (group m-g)',
        'g@* (group m-g) > a@h1.x',
        'g@* (group m-g) > g@* (group m-g)',
        'g@* (group m-g) > w@* (group m-w)',
      ]);
      expect(mesh.peersOf(g)).toEqual([a, g, w]);
      expect(mesh.sourcesOf(w)).toEqual([g]);
      expect(mesh.sourcesOf(g)).toEqual([a, g]);
      expect(mesh.members).toEqual([a, g, w]);
    });

    test('connectAll() connects nodes and groups both ways, members added later included', () => {
      for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
        const stack = newStack();
        const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', intentionsMode: mode });
        const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
        mesh.connectAll();
        const g = mesh.addReplicas('G', { alive: 'g', connectReplicas: false });
        const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
        expect(mesh.peersOf(g)).toEqual([a, b]);
        const json = synthJson(stack);
        const kv = kvManifests(json);
        expect(kv[a.kvKey].peerGroups).toEqual([{ service: 'm-g', query: 'meshx~m~' }]);
        expect(kv[g.kvKey].upstreams.map((u: any) => u.node)).toEqual(['a@h1.x', 'b@h2.x']);
        expect(kv[g.kvKey].peerGroups).toEqual([]);
        expect(allowedSources(json, 'm-g')).toEqual(['m-a', 'm-b']);
        expect(allowedSources(json, 'm-a')).toEqual(['m-b', 'm-g']);
      }
    });

    test('the Nodes output names each group by alive name, with its key and token', () => {
      const stack = newStack();
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
      const g = mesh.addReplicas('G', { alive: 'g' });
      const out = Object.entries<any>(synthJson(stack).output).find(([k]) => k.startsWith('Mesh_Nodes'))![1];
      expect(Object.keys(out.value)).toEqual(['m-g']);
      expect(out.value['m-g']).toMatchObject({ alive: 'g', kv_key: g.kvKey });
      expect(out.value['m-g'].token_accessor).toMatch(/^\$\{consul_acl_token\.Mesh_G_Acl_Token_[0-9A-F]+\.accessor_id\}$/);
      expect(out.value['m-g'].node).toBeUndefined();
    });

    test('fails on connecting a group to itself, naming connectReplicas', () => {
      const mesh = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
      const g = mesh.addReplicas('G', { alive: 'g' });
      expect(() => mesh.connect(g, g)).toThrow(
        /\[test\/Mesh\] cannot connect group 'g@\* \(group m-g\)' \(test\/Mesh\/G\) to itself: .*connectReplicas: false/,
      );
    });

    test('fails on connecting a group of another mesh', () => {
      const stack = newStack();
      const m1 = new BeamMesh(stack, 'M1', { name: 'one' });
      const m2 = new BeamMesh(stack, 'M2', { name: 'two' });
      const g = m2.addReplicas('G', { alive: 'g' });
      expect(() => m1.connect(m1.addNode('A', { nodeName: 'a@h.x' }), g)).toThrow(/\[test\/M1\] group test\/M2\/G belongs to mesh 'two'/);
    });
  });

  describe('fails', () => {
    test.each([
      ['Uppercase', /mesh name 'Uppercase' must be a lowercase DNS label/],
      ['-lead', /must be a lowercase DNS label/],
      ['a'.repeat(64), /must be a lowercase DNS label/],
      ['has_underscore', /must be a lowercase DNS label/],
    ])('on mesh name %s', (name, msg) => {
      expect(() => new BeamMesh(newStack(), 'Mesh', { name })).toThrow(msg);
    });

    test('with the construct path in the message', () => {
      expect(() => new BeamMesh(newStack(), 'MyMesh', { name: 'BAD' })).toThrow(/^\[test\/MyMesh\] /);
    });

    test.each(['/lead', 'trail/', 'sp ace', 'a//b'])('on kvPrefix %s', (kvPrefix) => {
      expect(() => new BeamMesh(newStack(), 'Mesh', { name: 'm', kvPrefix })).toThrow(/kvPrefix .* must be '\/'-separated segments/);
    });

    test('on a self-connection', () => {
      const mesh = new BeamMesh(newStack(), 'Mesh', { name: 'm' });
      const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
      expect(() => mesh.connect(a, a)).toThrow(/\[test\/Mesh\] cannot connect node 'a@h1.x' \(test\/Mesh\/A\) to itself/);
    });

    test('on connecting nodes of different meshes', () => {
      const stack = newStack();
      const m1 = new BeamMesh(stack, 'M1', { name: 'one' });
      const m2 = new BeamMesh(stack, 'M2', { name: 'two' });
      const a = m1.addNode('A', { nodeName: 'a@h1.x' });
      const b = m2.addNode('B', { nodeName: 'b@h2.x' });
      expect(() => m1.connect(a, b)).toThrow(/node test\/M2\/B belongs to mesh 'two' .*nodes of different meshes cannot be connected/);
      expect(() => m2.connect(a, b)).toThrow(/node test\/M1\/A belongs to mesh 'one'/);
    });
  });
});

/** Allowed source services of a destination, in either intentions mode, sorted. */
function allowedSources(json: any, dest: string): string[] {
  const entry = resources(json, 'consul_config_entry').find((e) => e.kind === 'service-intentions' && e.name === dest);
  const all = entry
    ? JSON.parse(entry.config_json).Sources.map((x: any) => ({ source: x.Name, action: x.Action }))
    : resources(json, 'consul_intention').filter((i) => i.destination_name === dest).map((i) => ({ source: i.source_name, action: i.action }));
  return all.filter((x: any) => x.action === 'allow').map((x: any) => x.source).sort();
}

import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Intention } from '@cdktf/provider-consul/lib/intention';
import { Aspects, Lazy, Testing } from 'cdktf';
import { ComposedStack } from '../../examples/composed/stack';
import { BeamMesh, IntentionsMode, MeshPolicy } from '../../lib';
import { newStack } from '../util';

function meshWith(props: Partial<ConstructorParameters<typeof BeamMesh>[2]> = {}) {
  const stack = newStack();
  const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', ...props });
  const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
  const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
  mesh.connect(a, b);
  return { stack, mesh };
}

describe('MeshPolicy', () => {
  test('a default mesh passes every rule, in both intentions modes', () => {
    for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
      const { stack } = meshWith({ intentionsMode: mode });
      for (const r of [MeshPolicy.requireDefaultDeny(), MeshPolicy.forbidWildcardAllow(), MeshPolicy.requireAcl(), MeshPolicy.maxPeersPerNode(1)])
        Aspects.of(stack).add(r);
      expect(() => Testing.synth(stack)).not.toThrow();
    }
  });

  test('the composed example passes its rules', () => {
    expect(() => Testing.synth(new ComposedStack(Testing.app(), 'composed'))).not.toThrow();
  });

  test('requireDefaultDeny fails a mesh without default deny, naming its path', () => {
    const { stack } = meshWith({ defaultDeny: false });
    Aspects.of(stack).add(MeshPolicy.requireDefaultDeny());
    expect(() => Testing.synth(stack)).toThrow("[test/Mesh] MeshPolicy.requireDefaultDeny: mesh 'm' has defaultDeny: false");
  });

  test('requireAcl fails a mesh without ACL tokens', () => {
    const { stack } = meshWith({ acl: false });
    Aspects.of(stack).add(MeshPolicy.requireAcl());
    expect(() => Testing.synth(stack)).toThrow("[test/Mesh] MeshPolicy.requireAcl: mesh 'm' has acl: false");
  });

  test('forbidWildcardAllow fails a legacy * allow intention anywhere in scope', () => {
    const { stack } = meshWith();
    new Intention(stack, 'OpenDoor', { sourceName: '*', destinationName: 'm-a', action: 'allow' });
    Aspects.of(stack).add(MeshPolicy.forbidWildcardAllow());
    expect(() => Testing.synth(stack)).toThrow('[test/OpenDoor] MeshPolicy.forbidWildcardAllow: intention * -> m-a allows every service');
  });

  test('forbidWildcardAllow fails a service-intentions entry with a * allow source', () => {
    const { stack } = meshWith();
    new ConfigEntry(stack, 'Wide', {
      kind: 'service-intentions',
      name: 'm-b',
      configJson: JSON.stringify({ Sources: [{ Name: '*', Action: 'allow' }] }),
    });
    Aspects.of(stack).add(MeshPolicy.forbidWildcardAllow());
    expect(() => Testing.synth(stack)).toThrow('[test/Wide] MeshPolicy.forbidWildcardAllow: service-intentions for m-b allows every service (*)');
  });

  test('forbidWildcardAllow reads entries resolved at synth (as the mesh writes its own)', () => {
    const { stack } = meshWith();
    const sources = [{ Name: '*', Action: 'allow' }];
    const configJson = Lazy.stringValue({ produce: () => JSON.stringify({ Sources: sources }) });
    new ConfigEntry(stack, 'Late', { kind: 'service-intentions', name: 'm-b', configJson });
    Aspects.of(stack).add(MeshPolicy.forbidWildcardAllow());
    expect(() => Testing.synth(stack)).toThrow('[test/Late] MeshPolicy.forbidWildcardAllow: service-intentions for m-b allows every service (*)');
  });

  test('forbidWildcardAllow leaves * deny alone', () => {
    const { stack } = meshWith({ intentionsMode: IntentionsMode.LEGACY });
    Aspects.of(stack).add(MeshPolicy.forbidWildcardAllow());
    expect(Testing.synth(stack)).toContain('"source_name": "*"');
  });

  test('maxPeersPerNode counts connectAll() at synth, nodes added later included', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    mesh.connectAll();
    for (let i = 0; i < 4; i++) mesh.addNode(`N${i}`, { nodeName: `n${i}@h${i}.x` });
    Aspects.of(stack).add(MeshPolicy.maxPeersPerNode(2));
    expect(() => Testing.synth(stack)).toThrow('[test/Mesh/N0] MeshPolicy.maxPeersPerNode(2): n0@h0.x may dial 3 peers (n1@h1.x, n2@h2.x, n3@h3.x)');
  });

  test('maxPeersPerNode needs a whole number', () => {
    expect(() => MeshPolicy.maxPeersPerNode(-1)).toThrow('max must be a whole number >= 0, got -1');
    expect(() => MeshPolicy.maxPeersPerNode(1.5)).toThrow('got 1.5');
  });

  describe('with replica groups', () => {
    function groupMesh(props: Partial<ConstructorParameters<typeof BeamMesh>[2]> = {}) {
      const { stack, mesh } = meshWith(props);
      const g = mesh.addReplicas('G', { alive: 'g' });
      mesh.connect(mesh.nodes[0], g);
      return { stack, mesh, g };
    }

    test('a mesh with a group passes every rule, in both intentions modes', () => {
      for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
        const { stack } = groupMesh({ intentionsMode: mode });
        for (const r of [MeshPolicy.requireDefaultDeny(), MeshPolicy.forbidWildcardAllow(), MeshPolicy.requireAcl(), MeshPolicy.maxPeersPerNode(2)])
          Aspects.of(stack).add(r);
        expect(() => Testing.synth(stack)).not.toThrow();
      }
    });

    test("forbidWildcardAllow fails a * allow to a group's service", () => {
      for (const mode of [IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY]) {
        const { stack } = groupMesh({ intentionsMode: mode });
        new Intention(stack, 'OpenDoor', { sourceName: '*', destinationName: 'm-g', action: 'allow' });
        Aspects.of(stack).add(MeshPolicy.forbidWildcardAllow());
        expect(() => Testing.synth(stack)).toThrow('[test/OpenDoor] MeshPolicy.forbidWildcardAllow: intention * -> m-g allows every service');
      }
    });

    test('maxPeersPerNode counts a group among a node\'s peers, and a group\'s own peers, itself included', () => {
      const { stack } = groupMesh();
      Aspects.of(stack).add(MeshPolicy.maxPeersPerNode(1));
      expect(() => Testing.synth(stack)).toThrow('[test/Mesh/A] MeshPolicy.maxPeersPerNode(1): a@h1.x may dial 2 peers (b@h2.x, g@* (group m-g))');
      const { stack: s2, mesh } = groupMesh();
      mesh.connect(mesh.groups[0], mesh.nodes[1], { bidirectional: false });
      Aspects.of(mesh.groups[0]).add(MeshPolicy.maxPeersPerNode(2));
      expect(() => Testing.synth(s2)).toThrow(
        '[test/Mesh/G] MeshPolicy.maxPeersPerNode(2): g@* (group m-g) may dial 3 peers (a@h1.x, b@h2.x, g@* (group m-g))',
      );
    });
  });
});

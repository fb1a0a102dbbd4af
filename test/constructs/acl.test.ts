import 'cdktf/lib/testing/adapters/jest';
import { AclPolicy } from '@cdktf/provider-consul/lib/acl-policy';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { Testing } from 'cdktf';
import { BeamMesh, NodeAcl, ProxyKind } from '../../lib';
import { newStack, resources, synthJson } from '../util';

describe('NodeAcl', () => {
  test("the token names its policy by the policy's logical ID at synth, an override included", () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    const acl = mesh.addNode('A', { nodeName: 'a@h1.x' }).node.findChild('Acl') as NodeAcl;
    acl.policy.overrideLogicalId('orders_policy');
    const json = synthJson(stack);
    expect(Object.keys(json.resource.consul_acl_policy)).toEqual(['orders_policy']);
    expect(resources(json, 'consul_acl_token')[0].policies).toEqual(['${consul_acl_policy.orders_policy.name}']);
  });

  test('one token per node: service identity plus read on its own manifest key only', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', proxy: ProxyKind.BUILTIN });
    const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
    mesh.addNode('B', { nodeName: 'b@h2.x' });
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(AclPolicy, { name: 'm-a-meshx-node', rules: 'key "meshx/m/nodes/m-a" {\n  policy = "read"\n}\n' });
    expect(synth).toHaveResourceWithProperties(AclToken, {
      description: 'meshx-node: a@h1.x (m-a)',
      local: false,
      service_identities: [{ service_name: 'm-a' }],
    });
    const json = JSON.parse(synth);
    expect(resources(json, 'consul_acl_token')).toHaveLength(2);
    expect(a.token).toBeDefined();
    // the token's policies reference its own policy, nothing else
    const tokenA = resources(json, 'consul_acl_token').find((t) => t.service_identities[0].service_name === 'm-a');
    expect(tokenA.policies).toHaveLength(1);
    expect(tokenA.policies[0]).toMatch(/^\$\{consul_acl_policy\.Mesh_A_Acl_Policy_[0-9A-F]+\.name\}$/);
    // no rule grants a prefix or another node's key
    for (const p of resources(json, 'consul_acl_policy')) expect(p.rules).not.toMatch(/key_prefix|service_prefix|write/);
  });

  test('Envoy nodes also get agent read (consul connect envoy reads /v1/agent/self)', () => {
    const stack = newStack();
    new BeamMesh(stack, 'Mesh', { name: 'm' }).addNode('A', { nodeName: 'a@h1.x' });
    const [policy] = resources(synthJson(stack), 'consul_acl_policy');
    expect(policy.rules).toBe('key "meshx/m/nodes/m-a" {\n  policy = "read"\n}\nagent_prefix "" {\n  policy = "read"\n}\n');
  });

  test('datacenter scopes the service identity and the policy', () => {
    const stack = newStack();
    new BeamMesh(stack, 'Mesh', { name: 'm', datacenter: 'dc2' }).addNode('A', { nodeName: 'a@h1.x' });
    const json = synthJson(stack);
    expect(resources(json, 'consul_acl_token')[0].service_identities).toEqual([{ service_name: 'm-a', datacenters: ['dc2'] }]);
    expect(resources(json, 'consul_acl_policy')[0].datacenters).toEqual(['dc2']);
  });

  test('no token secret is synthesized', () => {
    const stack = newStack();
    new BeamMesh(stack, 'Mesh', { name: 'm' }).addNode('A', { nodeName: 'a@h1.x' });
    const synth = Testing.synth(stack);
    expect(synth).not.toMatch(/secret/i);
    expect(JSON.parse(synth).data).toBeUndefined();
  });
});

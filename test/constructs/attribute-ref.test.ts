import { AclPolicy } from '@cdktf/provider-consul/lib/acl-policy';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { attributeRef, sameStackRef } from '../../lib/constructs/attribute-ref';
import { newStack, resources, synthJson } from '../util';

describe('sameStackRef', () => {
  test("synthesizes as cdktf's own reference to the attribute does", () => {
    const stack = newStack();
    const policy = new AclPolicy(stack, 'Policy', { name: 'p', rules: '' });
    new AclToken(stack, 'Ours', { policies: [sameStackRef(policy, 'name')] });
    new AclToken(stack, 'Cdktf', { policies: [policy.name] });
    const [ours, cdktf] = resources(synthJson(stack), 'consul_acl_token').map((t) => t.policies);
    expect(ours).toEqual(cdktf);
    expect(ours).toEqual([attributeRef(policy, 'name')]);
    expect(ours[0]).toMatch(/^\$\{consul_acl_policy\.Policy(_[0-9A-F]+)?\.name\}$/);
  });

  test("takes the resource's logical ID at synth, not when the token is made", () => {
    const stack = newStack();
    const policy = new AclPolicy(stack, 'Policy', { name: 'p', rules: '' });
    new AclToken(stack, 'Token', { policies: [sameStackRef(policy, 'name')] });
    policy.overrideLogicalId('later');
    expect(resources(synthJson(stack), 'consul_acl_token')[0].policies).toEqual(['${consul_acl_policy.later.name}']);
  });
});

import { BeamMesh } from '../../lib';
import { replicaQueryConfig } from '../../lib/constructs/replica-query-config';
import { queryTemplateDefinition, queryTemplateName, queryTemplateRegexp } from '../../lib/manifest/replicas';
import { newStack } from '../util';

describe('replicaQueryConfig', () => {
  test("the runtime's template definition, with ${ written as $${ for Terraform", () => {
    const mesh = new BeamMesh(newStack(), 'Mesh', { name: 'shop-eu', datacenter: 'dc1' });
    const c = replicaQueryConfig(mesh);
    const def = queryTemplateDefinition('shop-eu') as any;
    expect(c.name).toBe(queryTemplateName('shop-eu'));
    expect(c.template).toEqual({ type: 'name_prefix_match', regexp: queryTemplateRegexp('shop-eu') });
    expect(c.service).toBe(`$${def.Service.Service}`);
    expect(c.serviceMeta).toEqual({ erlang_node: `$${def.Service.ServiceMeta.erlang_node}`, meshx_mesh: 'shop-eu' });
    expect(c.onlyPassing).toBe(def.Service.OnlyPassing);
    expect(c.datacenter).toBe('dc1');
  });
});

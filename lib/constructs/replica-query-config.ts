import { PreparedQueryConfig } from '@cdktf/provider-consul/lib/prepared-query';
import { queryTemplateName, queryTemplateRegexp } from '../manifest/replicas';
import type { IBeamMesh } from './mesh-base';

/**
 * The mesh's prepared-query template as the provider takes it: the same query as
 * `queryTemplateDefinition` (lib/manifest/replicas.ts), written for Terraform. cdktf does not
 * escape `${`, so `$${…}` is what makes Terraform pass Consul's `${match(n)}` through instead of
 * calling a function `match`.
 */
export function replicaQueryConfig(mesh: IBeamMesh): PreparedQueryConfig {
  return {
    name: queryTemplateName(mesh.meshName),
    template: { type: 'name_prefix_match', regexp: queryTemplateRegexp(mesh.meshName) },
    service: '$${match(1)}',
    serviceMeta: { erlang_node: '$${match(2)}', meshx_mesh: mesh.meshName },
    onlyPassing: true,
    datacenter: mesh.datacenter,
    provider: mesh.provider,
  };
}

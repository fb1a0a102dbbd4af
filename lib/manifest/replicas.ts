// Replica groups: the names that reach one replica through the mesh's prepared-query template,
// and the node manifest a replica's helper makes of its group's manifest.
import { createHash } from 'node:crypto';
import { OWN_HOST_ADDRESS } from './loopback';
import { splitNodeName } from './names';
import { GroupManifest, NodeManifest } from './types';

/** The mesh's prepared-query template name; every replica query of the mesh starts with it. */
export function queryTemplateName(mesh: string): string {
  return `meshx~${mesh}~`;
}

/**
 * The template's regexp: `<service>~<node name>` after the mesh's prefix. `~` occurs in neither,
 * so the split is unambiguous; a name outside it finds no instance rather than a wrong one.
 */
export function queryTemplateRegexp(mesh: string): string {
  return `^meshx~${mesh}~([a-z0-9-]+)~([A-Za-z0-9_-]+@[A-Za-z0-9.-]+)$`;
}

/**
 * The template as Consul's `/v1/query` takes it. Instances are matched on their meta
 * `erlang_node` (exact, case-sensitive; tag matching ignores case) and `meshx_mesh`.
 */
export function queryTemplateDefinition(mesh: string): Record<string, unknown> {
  return {
    Name: queryTemplateName(mesh),
    Template: { Type: 'name_prefix_match', Regexp: queryTemplateRegexp(mesh) },
    Service: {
      Service: '${match(1)}',
      ServiceMeta: { erlang_node: '${match(2)}', meshx_mesh: mesh },
      OnlyPassing: true,
    },
  };
}

/** The query that reaches one member: the template's name, the group's service and the node. */
export function memberQueryName(template: string, service: string, node: string): string {
  return `${template}${service}~${node}`;
}

/** A replica's service ID: the group's service and a digest of its node name, unique per replica. */
export function replicaServiceId(service: string, node: string): string {
  return `${service}-${createHash('sha256').update(node).digest('hex').slice(0, 8)}`;
}

/**
 * The node manifest of one replica of `group`, named `node`: its service ID and `erlang_node`
 * meta, and a single-node peer on its own host moved to 127.0.0.1 (the synth cannot know the
 * replica's host). The caller validates the result (validateManifest) and checks the alive name.
 */
export function resolveReplica(group: GroupManifest, node: string): NodeManifest {
  const own = splitNodeName(node).host;
  const { group: _g, service, ...rest } = group;
  return {
    ...rest,
    node,
    service: {
      id: replicaServiceId(service.name, node),
      ...service,
      meta: { ...service.meta, erlang_node: node },
    },
    upstreams: group.upstreams.map((u) => (splitNodeName(u.node).host === own ? { ...u, address: OWN_HOST_ADDRESS } : u)),
  };
}

import { JSONSchemaType } from 'ajv';
import {
  ALIVE_PATTERN,
  DATACENTER_PATTERN,
  DURATION_PATTERN,
  LIMITS,
  LOOPBACK_PATTERN,
  META_KEY_PATTERN,
  NODE_NAME_PATTERN,
  QUERY_TEMPLATE_PATTERN,
  SERVICE_NAME_PATTERN,
} from './rules';
import { GroupManifest, MANIFEST_API_VERSION, ManifestPeerGroup, ManifestSidecar, ManifestUpstream, NodeManifest, ProxyKind } from './types';

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

const serviceFields = {
  name: { type: 'string', pattern: SERVICE_NAME_PATTERN },
  tags: { type: 'array', maxItems: LIMITS.tags, items: { type: 'string', minLength: 1, maxLength: LIMITS.tagLength } },
  meta: {
    type: 'object',
    maxProperties: LIMITS.metaKeys,
    propertyNames: { pattern: META_KEY_PATTERN } as any,
    additionalProperties: { type: 'string', maxLength: LIMITS.metaValueLength },
    required: [],
  },
  distPort: port,
  ttl: { type: 'string', pattern: DURATION_PATTERN },
  deregisterCriticalAfter: { type: 'string', pattern: DURATION_PATTERN },
} as const;

const sidecar: JSONSchemaType<ManifestSidecar> = {
  type: 'object',
  additionalProperties: false,
  required: ['port', 'proxy'],
  properties: {
    port,
    proxy: { type: 'string', enum: [ProxyKind.ENVOY, ProxyKind.BUILTIN] },
    // Opaque to the helper (the proxy reads it); keys it owns are refused in validate.ts.
    config: {
      type: 'object',
      nullable: true,
      maxProperties: LIMITS.proxyConfigKeys,
      propertyNames: { minLength: 1, maxLength: LIMITS.proxyConfigKeyLength } as any,
      required: [],
    },
  },
};

const upstreams: JSONSchemaType<ManifestUpstream[]> = {
  type: 'array',
  maxItems: LIMITS.upstreams,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['node', 'service', 'address', 'port'],
    properties: {
      node: { type: 'string', pattern: NODE_NAME_PATTERN },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      address: { type: 'string', pattern: LOOPBACK_PATTERN },
      port,
      datacenter: { type: 'string', pattern: DATACENTER_PATTERN, nullable: true },
    },
  },
};

const peerGroup: JSONSchemaType<ManifestPeerGroup> = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'query'],
  properties: {
    service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
    query: { type: 'string', pattern: QUERY_TEMPLATE_PATTERN },
  },
};

/**
 * JSON Schema (draft-07) of node manifest v1, typed against NodeManifest (ajv's JSONSchemaType)
 * so a field added to one and not the other fails the build. The runtime helper and the
 * constructs both validate against it; `meshx-node manifest --schema` prints it.
 */
export const NODE_MANIFEST_SCHEMA: JSONSchemaType<NodeManifest> & { $schema: string; $id: string; title: string } = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://meshx-node.dev/schema/node-manifest-v1.json',
  title: 'meshx-node node manifest v1',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'mesh', 'node', 'service', 'sidecar', 'upstreams', 'epmdPort'],
  properties: {
    apiVersion: { type: 'string', const: MANIFEST_API_VERSION },
    mesh: { type: 'string', pattern: SERVICE_NAME_PATTERN },
    node: { type: 'string', pattern: NODE_NAME_PATTERN },
    epmdPort: port,
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'tags', 'meta', 'distPort', 'ttl', 'deregisterCriticalAfter'],
      properties: { id: { type: 'string', pattern: SERVICE_NAME_PATTERN }, ...serviceFields },
    },
    sidecar,
    upstreams,
    peerGroups: { type: 'array', nullable: true, maxItems: LIMITS.upstreams, items: peerGroup },
  },
};

/**
 * JSON Schema (draft-07) of group manifest v1: one manifest for every replica of a group. A
 * helper older than groups refuses it (`group` is not a field of node manifests), naming the field.
 */
export const GROUP_MANIFEST_SCHEMA: JSONSchemaType<GroupManifest> & { $schema: string; $id: string; title: string } = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://meshx-node.dev/schema/group-manifest-v1.json',
  title: 'meshx-node group manifest v1',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'mesh', 'group', 'service', 'sidecar', 'upstreams', 'peerGroups', 'epmdPort'],
  properties: {
    apiVersion: { type: 'string', const: MANIFEST_API_VERSION },
    mesh: { type: 'string', pattern: SERVICE_NAME_PATTERN },
    group: {
      type: 'object',
      additionalProperties: false,
      required: ['alive'],
      properties: { alive: { type: 'string', pattern: ALIVE_PATTERN } },
    },
    epmdPort: port,
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'tags', 'meta', 'distPort', 'ttl', 'deregisterCriticalAfter'],
      properties: serviceFields,
    },
    sidecar,
    upstreams,
    peerGroups: { type: 'array', maxItems: LIMITS.upstreams, items: peerGroup },
  },
};


import { JSONSchemaType } from 'ajv';
import { DATACENTER_PATTERN, DURATION_PATTERN, LIMITS, LOOPBACK_PATTERN, META_KEY_PATTERN, NODE_NAME_PATTERN, SERVICE_NAME_PATTERN } from './rules';
import { MANIFEST_API_VERSION, NodeManifest, ProxyKind } from './types';

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

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
      properties: {
        id: { type: 'string', pattern: SERVICE_NAME_PATTERN },
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
      },
    },
    sidecar: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'proxy'],
      properties: {
        port,
        proxy: { type: 'string', enum: [ProxyKind.ENVOY, ProxyKind.BUILTIN] },
      },
    },
    upstreams: {
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
    },
  },
};

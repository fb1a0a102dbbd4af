import { DURATION_PATTERN, LOOPBACK_PATTERN, NODE_NAME_PATTERN, SERVICE_NAME_PATTERN } from './names';
import { MANIFEST_API_VERSION } from './types';

const port = { type: 'integer', minimum: 0, maximum: 65535 };

/**
 * JSON Schema (draft-07) of node manifest v1. The runtime helper and the constructs both
 * validate against it; `meshx-node manifest --schema` prints it.
 */
export const NODE_MANIFEST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://meshx-node.dev/schema/node-manifest-v1.json',
  title: 'meshx-node node manifest v1',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'mesh', 'node', 'service', 'sidecar', 'upstreams', 'epmdPort'],
  properties: {
    apiVersion: { const: MANIFEST_API_VERSION },
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
        tags: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 255 } },
        meta: {
          type: 'object',
          maxProperties: 64,
          propertyNames: { pattern: '^[A-Za-z0-9_-]{1,128}$' },
          additionalProperties: { type: 'string', maxLength: 512 },
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
        proxy: { enum: ['envoy', 'builtin'] },
      },
    },
    upstreams: {
      type: 'array',
      maxItems: 4096,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['node', 'service', 'address', 'port'],
        properties: {
          node: { type: 'string', pattern: NODE_NAME_PATTERN },
          service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
          address: { type: 'string', pattern: LOOPBACK_PATTERN },
          port,
          datacenter: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        },
      },
    },
  },
};

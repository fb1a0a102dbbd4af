import type { ErrorObject, ValidateFunction } from 'ajv';
import { splitNodeName } from './names';
import { consulLimitProblems, LIMITS, LOOPBACK_PATTERN, SIDECAR_SUFFIX } from './rules';
import { NODE_MANIFEST_SCHEMA } from './schema';
import { NodeManifest } from './types';

/** Largest manifest accepted, in bytes. */
export const MAX_MANIFEST_BYTES = LIMITS.manifestBytes;

/** A manifest that fails validation; `field` is the JSON path of the first problem. */
export class ManifestError extends Error {
  constructor(public readonly field: string, detail: string, public readonly source?: string) {
    super(`${source ? `${source}: ` : ''}manifest field '${field}' ${detail}`);
    this.name = 'ManifestError';
  }
}

/**
 * The schema check compiled at build time (scripts/gen-manifest-check.js), so the runtime helper
 * does not load Ajv; compiled here with the same options when that file is not built yet.
 */
function loadSchemaCheck(): ValidateFunction {
  try {
    return require('./schema-check') as ValidateFunction;
  } catch {
    const Ajv = require('ajv').default;
    return new Ajv({ allErrors: false, strict: true }).compile(NODE_MANIFEST_SCHEMA);
  }
}
const schemaCheck = loadSchemaCheck();

function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') parts.push(String(e.params.missingProperty));
  if (e.keyword === 'additionalProperties') parts.push(String(e.params.additionalProperty));
  let path = '';
  for (const p of parts) path += /^\d+$/.test(p) ? `[${p}]` : path ? `.${p}` : p;
  return path || '(root)';
}

/** Patterns too long to read in a message, said in words. */
const PATTERN_WORDS: Record<string, string> = {
  [LOOPBACK_PATTERN]: 'be an address of 127.0.0.0/8 in dotted decimal without leading zeros, not 127.0.0.0 or 127.255.255.255',
};

function detailOf(e: ErrorObject): string {
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `has an invalid value (must ${PATTERN_WORDS[e.params.pattern as string] ?? `match ${e.params.pattern}`})`;
    default:
      return e.message ?? 'is invalid';
  }
}

/**
 * Checks a parsed value against the v1 schema and the rules a schema cannot say (unique
 * upstreams, one loopback address per peer host, distinct fixed ports). Throws ManifestError.
 */
export function validateManifest(value: unknown, source?: string): NodeManifest {
  if (!schemaCheck(value)) {
    const e = schemaCheck.errors![0];
    throw new ManifestError(fieldOf(e), detailOf(e), source);
  }
  const m = value as unknown as NodeManifest;
  const own = splitNodeName(m.node).host;
  const seenNode = new Set<string>();
  const seenService = new Set<string>();
  const hostOfAddress = new Map<string, string>();
  const addressOfHost = new Map<string, string>();
  const fixedPorts = new Map<string, string>();
  const claim = (key: string, field: string) => {
    const prev = fixedPorts.get(key);
    if (prev) throw new ManifestError(field, `uses the same port as '${prev}'`, source);
    fixedPorts.set(key, field);
  };
  if (m.service.distPort) claim(`127.0.0.1:${m.service.distPort}`, 'service.distPort');
  if (m.epmdPort) claim(`127.0.0.1:${m.epmdPort}`, 'epmdPort');
  if (m.service.id !== m.service.name && m.service.id.endsWith(SIDECAR_SUFFIX)) {
    throw new ManifestError('service.id', `must not end in '${SIDECAR_SUFFIX}' (the sidecar's ID)`, source);
  }
  const consul = consulLimitProblems({ ...m.service, epmdPort: m.epmdPort, sidecarPort: m.sidecar.port });
  if (consul.length) throw new ManifestError(consul[0][0], consul[0][1], source);
  m.upstreams.forEach((u, i) => {
    const f = `upstreams[${i}]`;
    if (u.node === m.node) throw new ManifestError(`${f}.node`, 'is the node itself', source);
    if (u.service === m.service.name) throw new ManifestError(`${f}.service`, "is the node's own service", source);
    if (seenNode.has(u.node)) throw new ManifestError(`${f}.node`, `duplicates upstream '${u.node}'`, source);
    if (seenService.has(u.service)) throw new ManifestError(`${f}.service`, `duplicates upstream service '${u.service}'`, source);
    seenNode.add(u.node);
    seenService.add(u.service);
    const host = splitNodeName(u.node).host;
    if ((host === own) !== (u.address === '127.0.0.1')) {
      throw new ManifestError(
        `${f}.address`,
        host === own ? "must be 127.0.0.1 for a peer on the node's own host" : `must not be 127.0.0.1 for peer host '${host}'`,
        source,
      );
    }
    const otherHost = hostOfAddress.get(u.address);
    if (otherHost !== undefined && otherHost !== host) {
      throw new ManifestError(`${f}.address`, `is already the address of host '${otherHost}'`, source);
    }
    const otherAddress = addressOfHost.get(host);
    if (otherAddress !== undefined && otherAddress !== u.address) {
      throw new ManifestError(`${f}.address`, `differs from ${otherAddress}, already used for host '${host}'`, source);
    }
    hostOfAddress.set(u.address, host);
    addressOfHost.set(host, u.address);
    if (u.port) claim(`${u.address}:${u.port}`, `${f}.port`);
    if (u.port && m.epmdPort === u.port)
      throw new ManifestError(`${f}.port`, `uses the same port as 'epmdPort' (the EPMD server listens on ${u.address} too)`, source);
  });
  return m;
}

/** Parses JSON text (size-capped) and validates it. */
export function parseManifest(text: string, source?: string): NodeManifest {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    throw new ManifestError('(root)', `is larger than ${MAX_MANIFEST_BYTES} bytes`, source);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ManifestError('(root)', `is not valid JSON: ${(e as Error).message}`, source);
  }
  return validateManifest(value, source);
}

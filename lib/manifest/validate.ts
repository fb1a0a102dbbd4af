import type { ErrorObject, ValidateFunction } from 'ajv';
import { splitNodeName } from './names';
import { queryTemplateName } from './replicas';
import { consulLimitProblems, LIMITS, LOOPBACK_PATTERN, PROXY_CONFIG_OWNED, SIDECAR_SUFFIX } from './rules';
import { GROUP_MANIFEST_SCHEMA, NODE_MANIFEST_SCHEMA } from './schema';
import { AnyManifest, GroupManifest, ManifestPeerGroup, NodeManifest } from './types';

/** A group's service name, at most: a replica's ID (`<name>-<8 hex>`) must stay a 63-character label. */
export const MAX_GROUP_SERVICE_NAME = 54;

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
function loadSchemaCheck(built: () => unknown, schema: object): ValidateFunction {
  try {
    return built() as ValidateFunction;
  } catch {
    const Ajv = require('ajv').default;
    return new Ajv({ allErrors: false, strict: true }).compile(schema);
  }
}
// Literal requires: the bundler follows them (and so leaves Ajv out of the helper).
const schemaCheck = loadSchemaCheck(() => require('./schema-check'), NODE_MANIFEST_SCHEMA);
const groupSchemaCheck = loadSchemaCheck(() => require('./group-schema-check'), GROUP_MANIFEST_SCHEMA);

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

/** Fixed ports of one manifest: a second claim of `address:port` names the first. */
class PortClaims {
  private readonly byKey = new Map<string, string>();
  constructor(private readonly source?: string) {}
  public claim(key: string, field: string): void {
    const prev = this.byKey.get(key);
    if (prev) throw new ManifestError(field, `uses the same port as '${prev}'`, this.source);
    this.byKey.set(key, field);
  }
}

/**
 * The upstream rules a schema cannot say: unique nodes and services, one loopback address per
 * peer host (127.0.0.1 for the node's own host; `own` is undefined for a group, whose replicas'
 * hosts are known only at boot, so no upstream may have 127.0.0.1), distinct fixed ports.
 */
type UpstreamsOf = Pick<NodeManifest, 'upstreams' | 'epmdPort'> & { service: { name: string } };

function checkUpstreams(m: UpstreamsOf, own: string | undefined, claims: PortClaims, source?: string): void {
  const seenNode = new Set<string>();
  const seenService = new Set<string>();
  const hostOfAddress = new Map<string, string>();
  const addressOfHost = new Map<string, string>();
  m.upstreams.forEach((u, i) => {
    const f = `upstreams[${i}]`;
    if (u.service === m.service.name) throw new ManifestError(`${f}.service`, "is the node's own service", source);
    if (seenNode.has(u.node)) throw new ManifestError(`${f}.node`, `duplicates upstream '${u.node}'`, source);
    if (seenService.has(u.service)) throw new ManifestError(`${f}.service`, `duplicates upstream service '${u.service}'`, source);
    seenNode.add(u.node);
    seenService.add(u.service);
    const host = splitNodeName(u.node).host;
    if ((host === own) !== (u.address === '127.0.0.1')) {
      const why = host === own ? "must be 127.0.0.1 for a peer on the node's own host"
        : own === undefined ? "must not be 127.0.0.1 in a group's manifest (a replica's own host is known at boot)"
          : `must not be 127.0.0.1 for peer host '${host}'`;
      throw new ManifestError(`${f}.address`, why, source);
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
    if (u.port) claims.claim(`${u.address}:${u.port}`, `${f}.port`);
    if (u.port && m.epmdPort === u.port)
      throw new ManifestError(`${f}.port`, `uses the same port as 'epmdPort' (the EPMD server listens on ${u.address} too)`, source);
  });
}

/**
 * Peer groups: unique, of this mesh's template, not also a single-node upstream. The own service
 * may be one (a replica's own group: the helper leaves its own instance out).
 */
function checkPeerGroups(m: AnyManifest, groups: ManifestPeerGroup[], source?: string): void {
  const seen = new Set<string>();
  const single = new Set(m.upstreams.map((u) => u.service));
  groups.forEach((g, i) => {
    const f = `peerGroups[${i}]`;
    if (seen.has(g.service)) throw new ManifestError(`${f}.service`, `duplicates peer group '${g.service}'`, source);
    seen.add(g.service);
    if (single.has(g.service)) throw new ManifestError(`${f}.service`, `is also the service of a single-node upstream`, source);
    const template = queryTemplateName(m.mesh);
    if (g.query !== template) throw new ManifestError(`${f}.query`, `must be '${template}', the mesh's template`, source);
  });
}

function schemaChecked<T>(check: ValidateFunction, value: unknown, source?: string): T {
  if (!check(value)) {
    const e = check.errors![0];
    throw new ManifestError(fieldOf(e), detailOf(e), source);
  }
  return value as unknown as T;
}

/** A sidecar's Proxy.Config: no key the helper owns. */
function checkProxyConfig(m: NodeManifest | GroupManifest, source?: string): void {
  for (const key of Object.keys(m.sidecar.config ?? {})) {
    const why = Object.prototype.hasOwnProperty.call(PROXY_CONFIG_OWNED, key) ? PROXY_CONFIG_OWNED[key] : undefined;
    if (why) throw new ManifestError(`sidecar.config.${key}`, `is set by meshx-node, not the manifest: ${why}`, source);
  }
}

function checkFixedPorts(m: NodeManifest | GroupManifest, claims: PortClaims, source?: string): void {
  if (m.service.distPort) claims.claim(`127.0.0.1:${m.service.distPort}`, 'service.distPort');
  if (m.epmdPort) claims.claim(`127.0.0.1:${m.epmdPort}`, 'epmdPort');
  const consul = consulLimitProblems({ ...m.service, epmdPort: m.epmdPort, sidecarPort: m.sidecar.port });
  if (consul.length) throw new ManifestError(consul[0][0], consul[0][1], source);
}

/**
 * Checks a parsed value against the v1 schema and the rules a schema cannot say (unique
 * upstreams, one loopback address per peer host, distinct fixed ports). Throws ManifestError.
 */
export function validateManifest(value: unknown, source?: string): NodeManifest {
  const m = schemaChecked<NodeManifest>(schemaCheck, value, source);
  const claims = new PortClaims(source);
  checkFixedPorts(m, claims, source);
  checkProxyConfig(m, source);
  if (m.service.id !== m.service.name && m.service.id.endsWith(SIDECAR_SUFFIX)) {
    throw new ManifestError('service.id', `must not end in '${SIDECAR_SUFFIX}' (the sidecar's ID)`, source);
  }
  const self = m.upstreams.findIndex((u) => u.node === m.node);
  if (self >= 0) throw new ManifestError(`upstreams[${self}].node`, 'is the node itself', source);
  checkUpstreams(m, splitNodeName(m.node).host, claims, source);
  checkPeerGroups(m, m.peerGroups ?? [], source);
  return m;
}

/** Checks a group manifest: the group schema, then the rules of a node's manifest that apply to a group. */
export function validateGroupManifest(value: unknown, source?: string): GroupManifest {
  const m = schemaChecked<GroupManifest>(groupSchemaCheck, value, source);
  const claims = new PortClaims(source);
  checkFixedPorts(m, claims, source);
  checkProxyConfig(m, source);
  if (m.service.meta.erlang_node !== undefined) {
    throw new ManifestError('service.meta.erlang_node', "must not be set in a group's manifest (each replica sets its own)", source);
  }
  if (m.service.name.length > MAX_GROUP_SERVICE_NAME) {
    const why = `is longer than ${MAX_GROUP_SERVICE_NAME} characters: a replica's service ID adds 9 to it (63 at most)`;
    throw new ManifestError('service.name', why, source);
  }
  if (m.sidecar.port) throw new ManifestError('sidecar.port', 'must be 0 in a group\'s manifest (replicas of one host would share it)', source);
  checkUpstreams(m, undefined, claims, source);
  checkPeerGroups(m, m.peerGroups, source);
  return m;
}

/** Either kind: a value with a `group` field is a group's manifest. */
export function validateAnyManifest(value: unknown, source?: string): AnyManifest {
  const isGroup = typeof value === 'object' && value !== null && 'group' in value;
  return isGroup ? validateGroupManifest(value, source) : validateManifest(value, source);
}

/** Parses JSON text (size-capped) and validates it as a node's manifest. */
export function parseManifest(text: string, source?: string): NodeManifest {
  return validateManifest(parseJson(text, source), source);
}

/** Parses JSON text (size-capped) and validates it as a node's or a group's manifest. */
export function parseAnyManifest(text: string, source?: string): AnyManifest {
  return validateAnyManifest(parseJson(text, source), source);
}

function parseJson(text: string, source?: string): unknown {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    throw new ManifestError('(root)', `is larger than ${MAX_MANIFEST_BYTES} bytes`, source);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ManifestError('(root)', `is not valid JSON: ${(e as Error).message}`, source);
  }
  return value;
}

/**
 * Runs `check` on a manifest built in memory as on its JSON text, without writing and parsing
 * the text when that cannot change the answer: a value the schema accepts as it is holds only
 * JSON types in plain objects and arrays, so its text parses back to an equal value. Only a
 * value that fails is checked again through JSON, whose answer counts (JSON drops an undefined
 * field a caller may have left in, for example).
 */
export function validateAsJson<T>(value: T, check: (v: unknown) => unknown): void {
  try {
    check(value);
  } catch {
    check(JSON.parse(JSON.stringify(value)));
  }
}

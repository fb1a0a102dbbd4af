import { Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { LIMITS, PROXY_CONFIG_OWNED } from '../manifest/rules';
import { fail } from './errors';
import { checkLiteral } from './validation';

/** Nesting deeper than this is refused (and a value that refers to itself ends here). */
const MAX_DEPTH = 32;

/**
 * Checks a `proxyConfig` prop and returns a plain copy of it (undefined when absent or empty, so
 * the manifest leaves the field out). It goes into a manifest in KV and from there into the
 * sidecar registration: JSON values only (no undefined, function, symbol, bigint, non-finite
 * number, class instance or Terraform reference), and no key the helper owns.
 */
export function checkProxyConfig(scope: IConstruct, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) fail(scope, `proxyConfig must be an object of JSON values, got ${describe(value)}`);
  const keys = Object.keys(value);
  if (keys.length > LIMITS.proxyConfigKeys) fail(scope, `proxyConfig has ${keys.length} keys; at most ${LIMITS.proxyConfigKeys}`);
  for (const key of keys) {
    if (key.length === 0 || key.length > LIMITS.proxyConfigKeyLength) {
      fail(scope, `proxyConfig key '${key}' must be 1 to ${LIMITS.proxyConfigKeyLength} characters`);
    }
    const owned = Object.prototype.hasOwnProperty.call(PROXY_CONFIG_OWNED, key) ? PROXY_CONFIG_OWNED[key] : undefined;
    if (owned) fail(scope, `proxyConfig.${key} is set by meshx-node and cannot be overridden: ${owned}`);
  }
  const copy = jsonCopy(scope, 'proxyConfig', value, 0) as Record<string, unknown>;
  return keys.length ? copy : undefined;
}

/** A deep copy of a JSON value; the first value that is not one fails, named by its path. */
function jsonCopy(scope: IConstruct, path: string, v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) fail(scope, `${path} is nested deeper than ${MAX_DEPTH} levels (or refers to itself)`);
  if (Token.isUnresolved(v)) fail(scope, `${path} must be a literal value: the node manifest cannot hold Terraform references`);
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return checkLiteral(scope, path, v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(scope, `${path} must be a finite number, got ${v}`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonCopy(scope, `${path}[${i}]`, x, depth + 1));
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonCopy(scope, `${path}.${k}`, x, depth + 1);
    return out;
  }
  fail(scope, `${path} must be a JSON value (string, number, boolean, null, array or object), got ${describe(v)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'a class'}`;
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

// Name rules shared by the constructs (synth-time validation) and the JSON Schema (runtime).

/** Consul service names and IDs: lowercase DNS labels (`-sidecar-for` on Consul 1.8 breaks on uppercase). */
export const SERVICE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
/** Erlang node names: `alive@host`; alive as OTP accepts it, host as a DNS name (IP literals are fragile with inetrc). */
export const NODE_NAME_PATTERN = '^[A-Za-z0-9_-]{1,255}@[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$';
/** Loopback IPv4 addresses the routing uses. */
export const LOOPBACK_PATTERN = '^127\\.0\\.0\\.([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$';
/** Consul duration strings such as `15s`, `1m`, `1m30s`. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

const SERVICE_RE = new RegExp(SERVICE_NAME_PATTERN);
const NODE_RE = new RegExp(NODE_NAME_PATTERN);

export function isServiceName(s: string): boolean {
  return SERVICE_RE.test(s);
}

export function isNodeName(s: string): boolean {
  return NODE_RE.test(s);
}

/** Splits `alive@host` (caller has validated it). */
export function splitNodeName(node: string): { alive: string; host: string } {
  const at = node.indexOf('@');
  return { alive: node.slice(0, at), host: node.slice(at + 1) };
}

/** Turns arbitrary text into a lowercase DNS label: runs of other characters become `-`. */
export function toServiceLabel(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

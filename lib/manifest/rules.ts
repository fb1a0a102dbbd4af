// The one source of the manifest's rules: name patterns, limits, the sidecar suffix and Consul's
// duration syntax. The JSON Schema, the constructs (synth-time checks) and the runtime read them.

/** Consul service names and IDs: lowercase DNS labels (`-sidecar-for` on Consul 1.8 breaks on uppercase). */
export const SERVICE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
/** Erlang node names: `alive@host`; alive as OTP accepts it, host as a DNS name (IP literals are fragile with inetrc). */
export const NODE_NAME_PATTERN = '^[A-Za-z0-9_-]{1,255}@[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$';
/** The part of a node name before `@`, as NODE_NAME_PATTERN has it. */
export const ALIVE_PATTERN = '^[A-Za-z0-9_-]{1,255}$';
/** A mesh's prepared-query template name, `meshx~<mesh>~` (`~` occurs in no service or node name). */
export const QUERY_TEMPLATE_PATTERN = '^meshx~[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?~$';
/** 0 to 255 in decimal, without leading zeros. */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/**
 * Loopback IPv4 addresses the routing uses: any of 127.0.0.0/8 in dotted decimal without leading
 * zeros, but its network (127.0.0.0) and broadcast (127.255.255.255) addresses.
 */
export const LOOPBACK_PATTERN = `^(?!127\\.0\\.0\\.0$|127\\.255\\.255\\.255$)127\\.${OCTET}\\.${OCTET}\\.${OCTET}$`;
/** Consul duration strings such as `15s`, `1m`, `1m30s`. */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';
/** Service meta keys as Consul accepts them. */
export const META_KEY_PATTERN = '^[A-Za-z0-9_-]{1,128}$';
/** Datacenter names. */
export const DATACENTER_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/** Consul's suffix for a sidecar's service ID; a node's own ID must not end in it. */
export const SIDECAR_SUFFIX = '-sidecar-proxy';

export const LIMITS = {
  tags: 64,
  tagLength: 255,
  metaKeys: 64,
  metaValueLength: 512,
  /** Top-level keys of a sidecar's Proxy.Config, each 1 to 128 characters. */
  proxyConfigKeys: 64,
  proxyConfigKeyLength: 128,
  upstreams: 4096,
  /** Largest manifest accepted, in bytes: far above any real mesh, small enough to refuse garbage. */
  manifestBytes: 1024 * 1024,
  /** Consul rejects a TTL check under 1 s. */
  minTtlMs: 1000,
  /** Consul raises deregister_critical_service_after under 1 minute to 1 minute; refuse instead of surprising. */
  minDeregisterCriticalAfterMs: 60_000,
} as const;

/** Service meta keys meshx-node sets itself. */
export const RESERVED_META = ['erlang_node', 'meshx_mesh'];

/**
 * Proxy.Config keys the helper owns, with why: the public listener's address and port are the
 * registration's (the agent's address, a port the helper picks, proves free and reads back), the
 * local service is the BEAM's loopback listener, and distribution is raw TCP. The built-in proxy
 * ignores the first three (Consul 1.8.7, checked); Envoy would obey them, out of the helper's sight.
 */
export const PROXY_CONFIG_OWNED: Readonly<Record<string, string>> = {
  bind_address: "the public listener binds every address, and peers dial it at the agent's address",
  bind_port: "the public listener's port is the registration's, picked and proven free by the helper",
  local_service_address: "the sidecar forwards to the BEAM's listener on 127.0.0.1, set by the helper",
  protocol: "distribution is raw TCP (service-defaults pins 'tcp')",
  envoy_public_listener_json: "it replaces the public listener the helper registers and waits for",
  envoy_local_cluster_json: "it replaces the route to the BEAM's listener on 127.0.0.1",
};


const DURATION_RE = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function isDuration(d: string): boolean {
  return DURATION_RE.test(d);
}

/** Consul durations ("15s", "1m30s", "500ms") in milliseconds (caller has checked the syntax). */
export function durationMs(d: string): number {
  let total = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * UNIT_MS[unit];
  return total;
}

/**
 * What Consul would refuse (or silently change) in the health settings and fixed ports of a node;
 * returns [field, problem] pairs, empty when fine. Fields use manifest paths.
 */
export function consulLimitProblems(o: {
  ttl: string;
  deregisterCriticalAfter: string;
  distPort: number;
  epmdPort: number;
  sidecarPort: number;
}): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (isDuration(o.ttl) && durationMs(o.ttl) < LIMITS.minTtlMs) out.push(['service.ttl', `'${o.ttl}' is under Consul's minimum TTL of 1s`]);
  if (isDuration(o.deregisterCriticalAfter) && durationMs(o.deregisterCriticalAfter) < LIMITS.minDeregisterCriticalAfterMs) {
    out.push(['service.deregisterCriticalAfter', `'${o.deregisterCriticalAfter}' is under Consul's minimum of 1m`]);
  }
  if (o.sidecarPort && o.sidecarPort === o.distPort) out.push(['sidecar.port', `is the same port as service.distPort (${o.distPort})`]);
  if (o.sidecarPort && o.sidecarPort === o.epmdPort) out.push(['sidecar.port', `is the same port as epmdPort (${o.epmdPort})`]);
  return out;
}

/** The name a login's service claim is mapped to (auth-method claim mappings; binding-rule selectors use `value.meshx_service`). */
export const LOGIN_SERVICE_VAR = 'meshx_service';

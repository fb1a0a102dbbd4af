import { ProxyKind } from '../../manifest/types';

export interface ProxyCommandOptions {
  readonly kind: ProxyKind;
  readonly consulBin: string;
  readonly proxyId: string;
  /** The node's service ID: Envoy's base id is derived from it. */
  readonly serviceId: string;
  /** Agent HTTP address (base URL). */
  readonly httpAddr: string;
  /** Passed as -token-file; a token from the environment goes through CONSUL_HTTP_TOKEN instead. */
  readonly tokenFile?: string;
  /** Envoy only: admin listener, unique per Envoy on a host. */
  readonly adminBind?: string;
  /** Envoy only: the agent's xDS gRPC address. */
  readonly grpcAddr?: string;
  /** Envoy only: the Envoy binary. */
  readonly envoyBin?: string;
}

/**
 * Envoy's --base-id for a service: FNV-1a of the ID, kept well under 2^32 / 10 (Envoy derives
 * shared-memory and socket names from base_id * 10 + n). Distinct services on one host get
 * distinct ids, so two Envoys never share a hot-restart socket.
 */
export function envoyBaseId(serviceId: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(serviceId)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return (h % 400_000_000) + 1;
}

/**
 * The command line of a node's sidecar proxy. Always `-proxy-id` (deterministic; avoids the
 * uppercase `-sidecar-for` bug of Consul 1.8 and the "more than one sidecar" error). Tokens are
 * never put on the command line (visible in `ps`).
 */
export function proxyCommand(o: ProxyCommandOptions): string[] {
  const common = ['-proxy-id', o.proxyId, '-http-addr', o.httpAddr];
  if (o.tokenFile) common.push('-token-file', o.tokenFile);
  if (o.kind === ProxyKind.BUILTIN) return [o.consulBin, 'connect', 'proxy', ...common, '-log-level', 'info'];
  if (!o.adminBind) throw new Error('an Envoy proxy needs an admin bind address');
  const args = [o.consulBin, 'connect', 'envoy', ...common, '-admin-bind', o.adminBind];
  if (o.grpcAddr) args.push('-grpc-addr', o.grpcAddr);
  if (o.envoyBin) args.push('-envoy-binary', o.envoyBin);
  // Several Envoys on one host: the supervisor never hot-restarts (it starts a fresh Envoy), so
  // hot restart is off, and the base id is per service in case a wrapper turns it back on.
  args.push('--', '--disable-hot-restart', '--base-id', String(envoyBaseId(o.serviceId)));
  return args;
}

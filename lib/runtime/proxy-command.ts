import { ProxyKind } from '../manifest/types';

export interface ProxyCommandOptions {
  readonly kind: ProxyKind;
  readonly consulBin: string;
  readonly proxyId: string;
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
  return args;
}

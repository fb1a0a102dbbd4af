import type { ListenAddress } from './address';

/** How an EPMD lookup (PORT_PLEASE2) was answered: a peer's route, a local registration, or not found. */
export type LookupResult = 'peer' | 'local' | 'unknown';
/** Why a request to the Consul agent failed (consul/agent.ts). */
export type AgentErrorKind = 'timeout' | 'connection' | 'tls' | 'forbidden' | 'client_error' | 'server_error';

/**
 * What the runtime tells its metrics, one method per event. The steps call it where the event
 * happens; the Prometheus recorder (prometheus.ts) counts, and is loaded only with --metrics-addr.
 */
export interface MetricsRecorder {
  /** The node this helper runs, once its manifest is known. */
  nodeInfo(info: { node: string; service: string; proxy: string; version: string }): void;
  /** How long one boot step took (`beam`: from the BEAM's spawn to its EPMD registration). */
  bootStep(step: string, ms: number): void;
  /** A new manifest version read after boot (topology/follow.ts): applied, refused, or failed to apply. */
  manifestVersion(outcome: 'applied' | 'refused' | 'failed'): void;
  /** Sidecar upstreams (one per peer node) in force. */
  upstreams(count: number): void;
  proxyRestart(): void;
  /** The node's TTL check changed to this status. */
  healthState(status: 'passing' | 'warning' | 'critical'): void;
  epmdLookup(result: LookupResult): void;
  epmdRefused(): void;
  agentError(kind: AgentErrorKind): void;
  loginRenewal(outcome: 'ok' | 'failed'): void;
}

/** The kind of a failed agent request: a thrown error (no answer) or a status (an answer). */
export function agentErrorKind(failure: { status?: number; code?: string; tls?: boolean }): AgentErrorKind {
  const { status, code } = failure;
  if (status !== undefined) return status === 403 ? 'forbidden' : status >= 500 ? 'server_error' : 'client_error';
  if (code === 'ETIMEDOUT') return 'timeout';
  return failure.tls ? 'tls' : 'connection';
}

/** The Prometheus text exposition of the metrics. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** With --metrics-addr: what the steps record to, and where it is served. */
export interface NodeMetrics extends MetricsRecorder, MetricsSource {
  readonly address: ListenAddress;
}

// The Prometheus recorder, on prom-client with a Registry of its own (not the library's global
// one). Only the modules used are loaded, not prom-client's index: that loads the cluster
// aggregator, the push gateway (http, https, url), Summary with tdigest and the default process
// metrics with @opentelemetry/api, none of which the helper uses.
import type * as Prom from 'prom-client';
import type { ListenAddress } from './address';
import type { AgentErrorKind, LookupResult, NodeMetrics } from './recorder';

const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;

export class PrometheusRecorder implements NodeMetrics {
  private readonly registry = new Registry();
  private readonly info = this.gauge('meshx_node_info', 'The node this helper runs (value 1)', ['node', 'service', 'proxy', 'version']);
  private readonly steps = this.gauge('meshx_node_boot_step_seconds', 'How long each boot step of this run took', ['step']);
  private readonly versions = this.counter('meshx_node_manifest_versions_total', 'Manifest versions read after boot, by outcome', ['outcome']);
  private readonly upstreamCount = this.gauge('meshx_node_upstreams', 'Sidecar upstreams in force (one per peer node)');
  private readonly restarts = this.counter('meshx_node_proxy_restarts_total', 'Sidecar proxy restarts after it exited');
  private readonly health = this.counter('meshx_node_health_changes_total', "Changes of the node's TTL check, by new status", ['status']);
  private readonly passing = this.gauge('meshx_node_health_passing', "1 while the node's TTL check is passing, else 0");
  private readonly lookups = this.counter('meshx_node_epmd_lookups_total', 'EPMD lookups (PORT_PLEASE2), by how they were answered', ['result']);
  private readonly refused = this.counter('meshx_node_epmd_registrations_refused_total', 'EPMD registrations (ALIVE2) refused');
  private readonly agentErrors = this.counter('meshx_node_agent_request_errors_total', 'Failed requests to the Consul agent, by kind', ['kind']);
  private readonly renewals = this.counter('meshx_node_login_renewals_total', 'New logins after the agent lost the token, by outcome', ['outcome']);

  constructor(public readonly address: ListenAddress) {
    // Every labelled series from the start: a rate() over a series that appears late misses its first increase.
    for (const outcome of ['applied', 'refused', 'failed']) this.versions.inc({ outcome }, 0);
    for (const status of ['passing', 'critical']) this.health.inc({ status }, 0);
    for (const result of ['peer', 'local', 'unknown']) this.lookups.inc({ result }, 0);
    for (const outcome of ['ok', 'failed']) this.renewals.inc({ outcome }, 0);
  }

  public get contentType(): string {
    return this.registry.contentType;
  }

  public metrics(): Promise<string> {
    return this.registry.metrics();
  }

  public nodeInfo(i: { node: string; service: string; proxy: string; version: string }): void {
    this.info.reset();
    this.info.set({ node: i.node, service: i.service, proxy: i.proxy, version: i.version }, 1);
  }

  public bootStep(step: string, ms: number): void {
    this.steps.set({ step }, ms / 1000);
  }

  public manifestVersion(outcome: 'applied' | 'refused' | 'failed'): void {
    this.versions.inc({ outcome });
  }

  public upstreams(count: number): void {
    this.upstreamCount.set(count);
  }

  public proxyRestart(): void {
    this.restarts.inc();
  }

  public healthState(status: 'passing' | 'warning' | 'critical'): void {
    this.health.inc({ status });
    this.passing.set(status === 'passing' ? 1 : 0);
  }

  public epmdLookup(result: LookupResult): void {
    this.lookups.inc({ result });
  }

  public epmdRefused(): void {
    this.refused.inc();
  }

  public agentError(kind: AgentErrorKind): void {
    this.agentErrors.inc({ kind });
  }

  public loginRenewal(outcome: 'ok' | 'failed'): void {
    this.renewals.inc({ outcome });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[] = []): Prom.Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[] = []): Prom.Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }
}

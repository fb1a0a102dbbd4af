import { EventEmitter } from 'node:events';
import { splitNodeName } from '../../manifest/names';
import { durationMs } from '../../manifest/rules';
import { CheckStatus, ConsulError } from '../consul/agent';
import { ServiceWatch } from '../consul/service-watch';
import { Registration } from '../epmd/server';
import { whyFailed } from '../errors';
import { LiveRegistration } from '../live-registration';
import { waitProxyReady } from '../proxy/readiness';
import { ProxySupervisor } from '../proxy/supervisor';
import { beamCheckId } from '../registration';
import { RunOptions } from '../run-options';
import { BootStep, Picked, Registered, Serving } from './boot-step';

type HealthOptions = Pick<RunOptions, 'agent' | 'log' | 'manifest' | 'proxyKind' | 'readyTimeoutMs' | 'metrics'>;

/** What health follows: the registration in force, the EPMD's registrations, the proxy's life. */
export interface HealthInputs {
  readonly registration: LiveRegistration;
  /** Emits `registered` and `unregistered`; `registered` lists those in force (EpmdServer). */
  readonly epmd: EventEmitter & { readonly registered: Registration[] };
  /** Emits `exit` and `spawn` (ProxySupervisor). */
  readonly proxy: EventEmitter & Pick<ProxySupervisor, 'pid' | 'restartCount'>;
  /** Envoy's admin listener, for readiness after a restart. */
  readonly adminBind?: string;
  /** What differs between the registered BEAM and what the helper set (beam-judge.ts); empty when nothing. */
  readonly judge?: () => string[];
}

/**
 * The node's health on the agent. One TTL check the helper sets as things change: passing while
 * the BEAM is registered with our EPMD under its own name and the manifest's distribution port
 * and the sidecar proxy holds its listeners. Beside it, the agent's own TCP check on the BEAM's
 * distribution listener catches a helper that died (its BEAM and proxy die with it). The helper does not heartbeat: it
 * follows its registration with blocking queries, refreshes the TTL when one returns (a third of
 * the TTL), and registers again at once when the agent lost the service (restarted, reaped).
 */
export class Health {
  private beamUp = false;
  /** What keeps a registered BEAM from passing: its setup differs from the helper's. */
  private beamProblems: string[] = [];
  private proxyUp = true;
  private stopped = false;
  private watch?: ServiceWatch;
  private lastReported = '';
  private lastLine = '';
  /** When the agent last took the check's status (the registration set it too). */
  private lastPushAt = Date.now();
  private reregistering?: Promise<void>;
  /** Reports on their way to the agent: a drain's critical must land after them. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly refreshMs: number;

  constructor(private readonly o: HealthOptions, private readonly node: HealthInputs) {
    this.refreshMs = refreshInterval(durationMs(o.manifest.service.ttl));
  }

  public async start(): Promise<void> {
    const { o, node } = this;
    const alive = splitNodeName(o.manifest.node).alive;
    node.epmd.on('registered', (r: Registration) => {
      if (r.name === alive) this.beamRegistered(r);
    });
    node.epmd.on('unregistered', (r: Registration) => {
      if (r.name !== alive || this.stopped) return;
      this.beamUp = false;
      void this.report();
    });
    node.proxy.on('exit', () => {
      if (this.stopped) return;
      this.proxyUp = false;
      void this.report();
    });
    node.proxy.on('spawn', () => this.proxyRestarted());
    this.watch = new ServiceWatch({
      agent: o.agent,
      serviceId: o.manifest.service.id,
      waitS: Math.max(1, Math.round(this.refreshMs / 1000)),
      onPresent: (resumed) => this.refresh(resumed),
      onMissing: () => this.reregister(),
      log: o.log,
    });
    this.watch.start();
    // The BEAM starts beside the proxy's readiness wait, before health: it may have registered already.
    const now = node.epmd.registered.find((r) => r.name === alive);
    if (now) this.beamRegistered(now);
  }

  /** The node's BEAM registered with the EPMD: up if on the distribution port in force. */
  private beamRegistered(r: Registration): void {
    const { node } = this;
    if (this.stopped) return;
    this.beamUp = r.port === node.registration.ports.distPort;
    if (this.beamUp) this.judgeBeam();
    void Promise.all([this.beamUp && !node.registration.distCheck ? this.registerDistCheck() : undefined, this.report()]);
  }

  /** Reads the BEAM behind the command (a start script may change its setup); each problem logged with its fix. */
  private judgeBeam(): void {
    try {
      this.beamProblems = this.node.judge?.() ?? [];
    } catch (e) {
      this.beamProblems = [];
      this.o.log(`the BEAM's setup not checked: ${whyFailed(e)}`);
    }
    for (const p of this.beamProblems) this.o.log(`not passing while ${p}`);
  }

  /** The BEAM listens (it registered its port): from now on the agent dials it too. */
  private async registerDistCheck(): Promise<void> {
    try {
      await this.node.registration.addDistCheck();
    } catch (e) {
      this.o.log(`the agent's check on the BEAM's distribution port not registered: ${whyFailed(e)}`);
    }
  }

  /** No more reports or re-registrations: the node is stopping. */
  public stop(): Promise<void> {
    this.stopped = true;
    return this.watch?.stop() ?? Promise.resolve();
  }

  /**
   * A watch answer: the TTL is refreshed when half the interval has gone by since the last update,
   * and after an outage (an agent restarted with its state restores an expired TTL as critical).
   */
  private async refresh(resumed: boolean): Promise<void> {
    if (resumed || Date.now() - this.lastPushAt >= this.refreshMs / 2) await this.report();
  }

  private proxyRestarted(): void {
    const { o, node } = this;
    if (this.stopped) return;
    const ready = { kind: o.proxyKind, adminBind: node.adminBind, timeoutMs: o.readyTimeoutMs, proxy: node.proxy };
    waitProxyReady(node.registration.ports, ready).then(
      () => {
        if (this.stopped) return;
        o.log(`proxy back (pid ${node.proxy.pid})`);
        this.proxyUp = true;
        void this.report();
      },
      (e) => o.log(`proxy not ready after restart: ${(e as Error).message}`),
    );
  }

  /** The check's status and output; the output names what is down. */
  private check(): [string, CheckStatus, string] {
    const { o, node } = this;
    const m = o.manifest;
    const dist = node.registration.ports.distPort;
    const beam = this.beamUp ? `${m.node} registered on 127.0.0.1:${dist}` : `${m.node} is not registered with EPMD on port ${dist}`;
    const proxy = this.proxyUp
      ? `${o.proxyKind} proxy pid ${node.proxy.pid} accepting`
      : `sidecar proxy down (restarts so far: ${node.proxy.restartCount})`;
    const judged = this.beamUp && this.beamProblems.length === 0;
    if (judged && this.proxyUp) return [beamCheckId(m), 'passing', `${beam}; ${proxy}`];
    const beamWhy = this.beamUp ? this.beamProblems.join('; ') : beam;
    return [beamCheckId(m), 'critical', [judged ? '' : beamWhy, this.proxyUp ? '' : proxy].filter(Boolean).join('; ')];
  }

  private report(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const sending = this.reportNow();
    this.inFlight.add(sending);
    return sending.finally(() => this.inFlight.delete(sending));
  }

  private async reportNow(): Promise<void> {
    const check = this.check();
    if (await this.push(check)) this.logChange(check);
  }

  /**
   * A drained stop: no more reports, then the check critical with `reason` as its output, so the
   * node leaves peers' health views and upstreams while its BEAM still runs. The service stays
   * registered (deregistered at the end of the stop, as ever), so nothing races to register it again.
   */
  public async drain(reason: string): Promise<void> {
    await this.stop();
    await Promise.allSettled([...this.inFlight, this.reregistering]);
    const check: [string, CheckStatus, string] = [beamCheckId(this.o.manifest), 'critical', `draining: ${reason}`];
    await this.send(check);
    this.logChange(check);
  }

  private logChange([, status, line]: [string, CheckStatus, string]): void {
    if (status !== this.lastReported || (status === 'critical' && line !== this.lastLine)) this.o.log(`health ${status}: ${line}`);
    if (status !== this.lastReported) this.o.metrics?.healthState(status);
    this.lastReported = status;
    this.lastLine = line;
  }

  /** Sends the check; registers again when the agent lost the service. False when it did not get through. */
  private async push(check: [string, CheckStatus, string]): Promise<boolean> {
    try {
      await this.send(check);
      return true;
    } catch (e) {
      if (this.stopped) return false;
      if (!(e instanceof ConsulError && (e.status === 404 || e.status === 500))) {
        this.o.log(`health update failed: ${whyFailed(e)}`);
        return false;
      }
    }
    // The re-registration sends the check itself (and logs its failure).
    return this.reregister().then(() => false, () => false);
  }

  private async send([id, status, output]: [string, CheckStatus, string]): Promise<void> {
    await this.o.agent.updateTtl(id, status, output);
    this.lastPushAt = Date.now();
  }

  /** Registers the node again (ports and checks in force) and sends the check; concurrent callers share one. */
  private reregister(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.reregistering ??= this.registerAgain().finally(() => (this.reregistering = undefined));
    return this.reregistering;
  }

  private async registerAgain(): Promise<void> {
    const { o } = this;
    o.log(`the agent no longer knows ${o.manifest.service.id}; registering again`);
    try {
      await this.node.registration.register();
      const check = this.check();
      await this.send(check);
      this.logChange(check);
    } catch (e) {
      o.log(`re-registration failed: ${whyFailed(e)}`);
      throw e;
    }
  }
}

/** What the health step reads of the steps before it. */
export interface HealthStepInputs {
  readonly ports: Picked;
  readonly register: Registered;
  readonly epmd: Serving<HealthInputs['epmd']>;
  readonly proxy: Serving<HealthInputs['proxy']>;
  /** The BEAM step, which judges the BEAM behind the command once it registered. */
  readonly beam?: { judge(): string[] };
}

/** Health as a boot step: watching starts once the BEAM is spawned and the proxy ready, ends before anything is undone. */
export class HealthStep implements BootStep {
  public readonly name = 'health';
  private health?: Health;

  constructor(private readonly o: HealthOptions, private readonly from: HealthStepInputs) {}

  public async start(): Promise<void> {
    const { from } = this;
    const { registration } = from.register;
    const judge = from.beam ? () => from.beam!.judge() : undefined;
    const adminBind = from.ports.picks.adminBind;
    this.health = new Health(this.o, { registration, epmd: from.epmd.server, proxy: from.proxy.server, adminBind, judge });
    await this.health.start();
  }

  public preStop(): void {
    void this.health?.stop();
  }

  public async drain(reason: string): Promise<void> {
    await this.health?.drain(reason);
  }

  public async stop(): Promise<void> {
    await this.health?.stop();
  }
}

/** How often the TTL is refreshed: a third of it (a late answer does not let it lapse), within a blocking query's longest wait (10 min). */
export function refreshInterval(ttlMs: number): number {
  return Math.min(600_000, Math.max(1000, Math.floor(ttlMs / 3)));
}

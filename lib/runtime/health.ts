import { durationMs } from '../manifest/rules';
import { CheckStatus, ConsulError } from './consul-agent';
import { BootContext, BootStep, liveManifest } from './context';
import { Registration } from './epmd/server';
import { waitProxyReady } from './proxy-ready';
import { beamCheckId, serviceDefinition } from './registration';
import { splitNodeName } from '../manifest/names';

/**
 * The node's health on the agent, one TTL check: passing while the BEAM is registered with our
 * EPMD under its own name and the manifest's distribution port and the sidecar proxy holds its
 * listeners (the sidecar's alias check follows it). Heartbeats every TTL/3; a lost registration (agent restarted, service reaped)
 * is registered again with the same ports.
 */
export class Health {
  private beamUp = false;
  private proxyUp = true;
  private stopped = false;
  private heartbeat?: NodeJS.Timeout;
  private lastReported = '';
  private lastLine = '';

  constructor(private readonly ctx: BootContext) {}

  public start(): void {
    const { ctx } = this;
    const alive = splitNodeName(ctx.o.manifest.node).alive;
    ctx.epmd!.on('registered', (r: Registration) => {
      if (r.name !== alive || this.stopped) return;
      this.beamUp = r.port === ctx.ports!.distPort;
      void this.report();
    });
    ctx.epmd!.on('unregistered', (r: Registration) => {
      if (r.name !== alive || this.stopped) return;
      this.beamUp = false;
      void this.report();
    });
    ctx.proxy!.on('exit', () => {
      if (this.stopped) return;
      this.proxyUp = false;
      void this.report();
    });
    ctx.proxy!.on('spawn', () => this.proxyRestarted());
    const ttlMs = durationMs(ctx.o.manifest.service.ttl);
    this.heartbeat = setInterval(() => void this.report(), Math.max(1000, Math.floor(ttlMs / 3)));
  }

  /** No more reports or re-registrations: the node is stopping. */
  public stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  private proxyRestarted(): void {
    const { ctx } = this;
    if (this.stopped) return;
    waitProxyReady(ctx.ports!, { kind: ctx.o.proxyKind, adminBind: ctx.adminBind, timeoutMs: ctx.o.readyTimeoutMs, proxy: ctx.proxy! }).then(
      () => {
        if (this.stopped) return;
        ctx.o.log(`proxy back (pid ${ctx.proxy!.pid})`);
        this.proxyUp = true;
        void this.report();
      },
      (e) => ctx.o.log(`proxy not ready after restart: ${(e as Error).message}`),
    );
  }

  /** The check's status and output; the output names what is down. */
  private check(): [string, CheckStatus, string] {
    const { ctx } = this;
    const m = ctx.o.manifest;
    const beam = this.beamUp ? `${m.node} registered on 127.0.0.1:${ctx.ports!.distPort}` : `${m.node} is not registered with EPMD on port ${ctx.ports!.distPort}`;
    const proxy = this.proxyUp ? `${ctx.o.proxyKind} proxy pid ${ctx.proxy!.pid} accepting` : `sidecar proxy down (restart ${ctx.proxy!.restartCount})`;
    if (this.beamUp && this.proxyUp) return [beamCheckId(m), 'passing', `${beam}; ${proxy}`];
    return [beamCheckId(m), 'critical', [this.beamUp ? '' : beam, this.proxyUp ? '' : proxy].filter(Boolean).join('; ')];
  }

  private async report(): Promise<void> {
    if (this.stopped) return;
    const check = this.check();
    if (!(await this.push(check))) return;
    const [, status, line] = check;
    if (status !== this.lastReported || (status === 'critical' && line !== this.lastLine)) this.ctx.o.log(`health ${status}: ${line}`);
    this.lastReported = status;
    this.lastLine = line;
  }

  /** Sends the check; registers again when the agent lost the service. False when it did not get through. */
  private async push([id, status, output]: [string, CheckStatus, string]): Promise<boolean> {
    const { o } = this.ctx;
    const update = () => o.agent.updateTtl(id, status, output);
    try {
      await update();
      return true;
    } catch (e) {
      if (this.stopped) return false;
      if (!(e instanceof ConsulError && (e.status === 404 || e.status === 500))) {
        o.log(`health update failed: ${(e as Error).message}`);
        return false;
      }
    }
    o.log(`the agent no longer knows ${o.manifest.service.id}; registering again`);
    try {
      await o.agent.registerService(serviceDefinition(liveManifest(this.ctx), this.ctx.ports!, process.pid));
      await update();
      return true;
    } catch (e) {
      o.log(`re-registration failed: ${(e as Error).message}`);
      return false;
    }
  }
}

/** Health as a boot step: watching starts before the BEAM, ends before anything is undone. */
export const healthStep: BootStep & { of: WeakMap<BootContext, Health> } = {
  name: 'health',
  of: new WeakMap(),
  async start(ctx) {
    const h = new Health(ctx);
    healthStep.of.set(ctx, h);
    h.start();
  },
  preStop(ctx) {
    healthStep.of.get(ctx)?.stop();
  },
  async stop(ctx) {
    healthStep.of.get(ctx)?.stop();
  },
};

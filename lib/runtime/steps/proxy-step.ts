import { epmdPeers } from '../epmd/peers';
import { EpmdServer } from '../epmd/server';
import { isFree } from '../ports';
import { proxyCommand } from '../proxy/command';
import { ListenerTaken, waitProxyReady } from '../proxy/readiness';
import { ProxySupervisor } from '../proxy/supervisor';
import { sidecarId } from '../registration';
import { RunOptions } from '../run-options';
import { BootStep, made, Picked, Registered, Serving, TokenSource } from './boot-step';

type ProxyOptions = Pick<
  RunOptions,
  'agent' | 'consulBin' | 'env' | 'envoyBin' | 'grpcAddr' | 'log' | 'manifest' | 'proxyKind' | 'proxyOutput' | 'readyTimeoutMs'
>;

/** What the proxy step reads of the steps before it. */
export interface ProxyInputs {
  readonly token: TokenSource;
  readonly ports: Picked;
  readonly register: Registered;
  readonly epmd: Serving<Pick<EpmdServer, 'setPeers'>>;
}

/** The sidecar proxy, supervised (restarted with backoff); ready when it holds every listener. */
export class ProxyStep implements BootStep {
  public readonly name = 'proxy-ready';
  private proxy?: ProxySupervisor;
  private ready = false;
  private stopping = false;
  private killNow = false;

  constructor(private readonly o: ProxyOptions, private readonly from: ProxyInputs) {}

  /** The supervisor of the proxy, ready. */
  public get server(): ProxySupervisor {
    return made(this.ready ? this.proxy : undefined, this.name);
  }

  public async start(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const picks = this.from.ports.picks;
    // An https agent: the proxy (a consul CLI) gets the helper's CA, client certificate and
    // server name through the variables it reads, whether they came from flags or environment.
    const env = { ...o.env, ...o.agent.cliEnv?.() };
    const proxy = new ProxySupervisor({ argv: this.command(), env, output: o.proxyOutput, log: o.log });
    this.proxy = proxy;
    this.from.token.onRenewed?.(() => this.afterRenewal(proxy));
    await picks.held.release('proxy');
    proxy.start();
    await this.untilReady(proxy, signal);
    this.ready = true;
    o.log(`proxy ready (${o.proxyKind}, pid ${proxy.pid})`);
  }

  // Before the BEAM drains: a proxy that exits during shutdown is not restarted.
  public preStop(): void {
    this.stopping = true;
    this.proxy?.hold();
  }

  public async stop(): Promise<void> {
    this.stopping = true;
    await this.proxy?.stop(this.killNow ? 0 : 5000);
  }

  public kill(): void {
    this.killNow = true;
    this.proxy?.kill();
  }

  private command(): string[] {
    const { o } = this;
    return proxyCommand({
      kind: o.proxyKind,
      consulBin: o.consulBin,
      proxyId: sidecarId(o.manifest),
      serviceId: o.manifest.service.id,
      httpAddr: o.agent.baseUrl,
      tokenFile: this.from.token.tokenFile,
      adminBind: this.from.ports.picks.adminBind,
      grpcAddr: o.grpcAddr,
      envoyBin: o.envoyBin,
    });
  }

  private async untilReady(proxy: ProxySupervisor, signal: AbortSignal): Promise<void> {
    const { o } = this;
    const registration = this.from.register.registration;
    for (let moves = 0; ; moves++) {
      try {
        const ready = { kind: o.proxyKind, adminBind: this.from.ports.picks.adminBind, timeoutMs: o.readyTimeoutMs, proxy, signal };
        return await waitProxyReady(registration.ports, ready);
      } catch (e) {
        // A port proven free before was bound since by another process: the sidecar port by
        // another agent's proxy (agents all hand out ports from 21000), an upstream port by
        // another helper of this host booting at the same moment. Move, a few times at most.
        if (!(e instanceof ListenerTaken) || moves >= 3) throw e;
        await proxy.stop();
        if (e.what === 'public listener' && !o.manifest.sidecar.port) {
          o.log(`${e.message}; moving the sidecar`);
          await registration.moveSidecar();
        } else if (!(e.what === 'upstream' && (await this.moveUpstream(e)))) {
          throw e;
        }
        proxy.start();
      }
    }
  }

  /** The upstream registered again on a free port, and its EPMD route with it. */
  private async moveUpstream(e: ListenerTaken): Promise<boolean> {
    const registration = this.from.register.registration;
    if (!(await registration.moveUpstream(e.address, e.port))) return false;
    this.from.epmd.server.setPeers(epmdPeers(registration.ports.upstreams));
    return true;
  }

  /** After a new login: the agent syncs the service with its registration's token, and the proxy read its token at start. */
  private async afterRenewal(proxy: ProxySupervisor): Promise<void> {
    const { o } = this;
    const registration = this.from.register.registration;
    try {
      await registration.register();
      o.log(`registered ${o.manifest.service.id} again with the new token`);
      if (this.stopping) return;
      await proxy.stop(5000);
      if (this.stopping) return;
      // The agent-assigned sidecar port was free only while our proxy held it: another
      // process on the host (another agent's proxy) may have taken it in between. Then move.
      if (!o.manifest.sidecar.port && !(await isFree('0.0.0.0', registration.ports.sidecarPort))) await registration.moveSidecar();
      if (!this.stopping) proxy.start();
    } catch (e) {
      o.log(`after the new login: ${(e as Error).message}`);
    }
  }
}

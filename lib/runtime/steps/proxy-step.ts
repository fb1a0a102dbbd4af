import { epmdPeers } from '../epmd/peers';
import { EpmdServer } from '../epmd/server';
import { isFree } from '../ports';
import { proxyCommand } from '../proxy/command';
import { ListenerTaken, ProxyNotReady, readyAttempts, waitProxyReady } from '../proxy/readiness';
import { ProxySupervisor } from '../proxy/supervisor';
import { sidecarId } from '../registration';
import { RunOptions } from '../run-options';
import { LiveFiles } from '../topology/outputs';
import { BootStep, made, Picked, Registered, Serving, SidecarReadiness, TokenSource } from './boot-step';

type ProxyOptions = Pick<
  RunOptions,
  'agent' | 'consulBin' | 'env' | 'envoyBin' | 'grpcAddr' | 'log' | 'manifest' | 'proxyKind' | 'proxyOutput' | 'readyTimeoutMs' | 'metrics'
>;

/** What the proxy step reads of the steps before it. */
export interface ProxyInputs {
  readonly token: TokenSource;
  readonly ports: Picked;
  readonly register: Registered;
  readonly epmd: Serving<Pick<EpmdServer, 'setPeers'>>;
  /** Settled when the readiness wait ends: the EPMD holds peer lookups until then. */
  readonly sidecar: Pick<SidecarReadiness, 'follow' | 'end'>;
}

/**
 * The sidecar proxy, supervised (restarted with backoff). Placed before the BEAM, so that a stop
 * undoes the BEAM first (it drains through the proxy); start sets up the supervision and the
 * proxy-ready step spawns the proxy after the BEAM, whose boot is the longest. The wait until it
 * holds every listener goes on beside the BEAM's boot as `ready`; until then the EPMD holds peer
 * lookups, so the BEAM's first dial finds its upstream listener bound.
 */
export class ProxyStep implements BootStep {
  public readonly name = 'proxy';
  /** How long the proxy took from its spawn to holding every listener, once ready. */
  public readyMs?: number;
  /** A port of the registration moved during the readiness wait (after the BEAM's files were written). */
  public portsMoved = false;
  private proxy?: ProxySupervisor;
  private isReady = false;
  private stopping = false;
  private killNow = false;
  private restarting: Promise<void> = Promise.resolve();
  private readying?: Promise<void>;
  /** Ends the readiness wait: a signal during boot, or the step's stop. */
  private readonly waitEnd = new AbortController();

  constructor(private readonly o: ProxyOptions, private readonly from: ProxyInputs) {}

  /** The supervisor of the proxy, ready. */
  public get server(): ProxySupervisor {
    return made(this.isReady ? this.proxy : undefined, 'proxy-ready');
  }

  /** Settles when the proxy holds every listener (or never will: rejected, --ready-timeout); after spawn. */
  public get ready(): Promise<void> {
    return made(this.readying, 'proxy-ready');
  }

  /** Sets up the proxy's supervision; the proxy-ready step spawns it, after the BEAM. */
  public async start(): Promise<void> {
    const { o } = this;
    // An https agent: the proxy (a consul CLI) gets the helper's CA, client certificate and
    // server name through the variables it reads, whether they came from flags or environment.
    const env = { ...o.env, ...o.agent.cliEnv?.() };
    const proxy = new ProxySupervisor({ argv: this.command(), env, output: o.proxyOutput, log: o.log });
    this.proxy = proxy;
    proxy.on('restart', () => o.metrics?.proxyRestart());
    this.from.token.onRenewed?.(() => this.afterRenewal(proxy));
    o.agent.onTlsReloaded?.(() => void this.afterTlsReload(proxy));
  }

  /** Spawns the proxy and returns; the wait until it holds every listener goes on as `ready`. */
  public async spawn(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const proxy = made(this.proxy, this.name);
    await this.from.ports.picks.held.release('proxy');
    if (signal.aborted) return this.from.sidecar.end();
    signal.addEventListener('abort', () => this.waitEnd.abort(), { once: true });
    const t0 = Date.now();
    proxy.start();
    this.readying = this.untilReady(proxy, this.waitEnd.signal).then(() => {
      this.readyMs = Date.now() - t0;
      this.isReady = true;
      o.log(`proxy ready (${o.proxyKind}, pid ${proxy.pid})`);
    });
    // Awaited by the proxy-ready step; a failure before that is its to report.
    this.readying.catch(() => undefined);
    this.from.sidecar.follow(this.readying);
  }

  // Before the BEAM drains: a proxy that exits during shutdown is not restarted.
  public preStop(): void {
    this.stopping = true;
    // A readiness wait still going (a boot undone) starts no proxy from here on.
    this.waitEnd.abort();
    this.proxy?.hold();
  }

  public async stop(): Promise<void> {
    this.stopping = true;
    this.from.sidecar.end();
    // The wait may be restarting the proxy: ended first, so nothing starts it after this stop.
    this.waitEnd.abort();
    await this.readying?.catch(() => undefined);
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

  /**
   * Until the proxy holds every listener, within --ready-timeout. Two ways it can fail to, each
   * handled by starting it again: a port it needs was taken (moved first, up to 3 times), or it
   * hangs during its boot (seen once in ~12 boots on Consul 1.14.11: upstream listener bound, leaf
   * certificate and roots fetched, public listener never bound), restarted at the end of each
   * attempt but the last. A signal ends the wait at once, whatever the attempt.
   */
  private async untilReady(proxy: ProxySupervisor, signal: AbortSignal): Promise<void> {
    const { o } = this;
    const { attempts, attemptMs } = readyAttempts(o.readyTimeoutMs);
    const end = Date.now() + o.readyTimeoutMs;
    let moves = 0;
    for (let attempt = 1; ; ) {
      // Each start of the proxy gets a whole attempt (a move starts it again too); the last
      // attempt gets what is left, so the total stays within the ready timeout.
      const timeoutMs = attempt < attempts ? Math.min(attemptMs, end - Date.now()) : end - Date.now();
      try {
        return await this.waitReady(proxy, signal, timeoutMs);
      } catch (e) {
        if (signal.aborted) throw e;
        if (e instanceof ListenerTaken && moves < 3) {
          moves++;
          await this.moveAndRestart(proxy, e, signal);
        } else if (e instanceof ProxyNotReady && attempt < attempts) {
          const after = `after ${Math.round(e.waitedMs / 1000)}s (attempt ${attempt} of ${attempts})`;
          o.log(`proxy not ready ${after}: nothing listens on ${e.missing.join(', ')}; restarting it`);
          attempt++;
          await this.restartStuck(proxy, signal);
        } else {
          // The failure names the whole wait, as it did before attempts: --ready-timeout.
          throw e instanceof ProxyNotReady ? e.within(o.readyTimeoutMs) : e;
        }
      }
    }
  }

  private waitReady(proxy: ProxySupervisor, signal: AbortSignal, timeoutMs: number): Promise<void> {
    const { o } = this;
    const ready = { kind: o.proxyKind, adminBind: this.from.ports.picks.adminBind, timeoutMs, proxy, signal };
    return waitProxyReady(this.from.register.registration.ports, ready);
  }

  /**
   * A port proven free before was bound since by another process: the sidecar port by another
   * agent's proxy (agents all hand out ports from 21000), an upstream port by another helper of
   * this host booting at the same moment. The proxy started again once the port moved.
   */
  private async moveAndRestart(proxy: ProxySupervisor, e: ListenerTaken, signal: AbortSignal): Promise<void> {
    const { o } = this;
    await proxy.stop();
    this.portsMoved = true;
    if (e.what === 'public listener' && !o.manifest.sidecar.port) {
      o.log(`${e.message}; moving the sidecar`);
      await this.from.register.registration.moveSidecar();
    } else if (!(e.what === 'upstream' && (await this.moveUpstream(e)))) {
      throw e;
    }
    if (!signal.aborted) proxy.start();
  }

  /**
   * A proxy that never became ready carries no connection, and one that hangs may not act on
   * SIGTERM (a stopped or deadlocked process): killed at once, so the next attempt has its time.
   */
  private async restartStuck(proxy: ProxySupervisor, signal: AbortSignal): Promise<void> {
    await proxy.stop(0);
    if (!signal.aborted) proxy.start();
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
      await this.restart(proxy);
    } catch (e) {
      o.log(`after the new login: ${(e as Error).message}`);
    }
  }

  /**
   * After the helper read new agent TLS files: the proxy (a consul CLI) loaded them at its start,
   * and needs the agent for every inbound handshake (authorize), so it starts again with them.
   */
  private async afterTlsReload(proxy: ProxySupervisor): Promise<void> {
    if (!this.isReady || this.stopping) return;
    this.o.log('restarting the proxy: it reads the agent TLS files only when it starts');
    try {
      await this.restart(proxy);
    } catch (e) {
      this.o.log(`after the TLS files changed: ${(e as Error).message}`);
    }
  }

  /** Stops and starts the proxy, one restart at a time. */
  private restart(proxy: ProxySupervisor): Promise<void> {
    const next = this.restarting.then(async () => {
      if (this.stopping) return;
      await proxy.stop(5000);
      if (this.stopping) return;
      // The agent-assigned sidecar port was free only while our proxy held it: another
      // process on the host (another agent's proxy) may have taken it in between. Then move.
      const registration = this.from.register.registration;
      if (!this.o.manifest.sidecar.port && !(await isFree('0.0.0.0', registration.ports.sidecarPort))) await registration.moveSidecar();
      if (!this.stopping) proxy.start();
    });
    this.restarting = next.catch(() => undefined);
    return next;
  }
}

/**
 * Spawns the proxy, after the BEAM, and waits until it holds every listener, beside the BEAM's
 * boot. Its time (`readyMs`) is from the proxy's spawn to its readiness.
 */
export class ProxyReadyStep implements BootStep {
  public readonly name = 'proxy-ready';

  constructor(
    private readonly proxy: Pick<ProxyStep, 'spawn' | 'ready' | 'readyMs' | 'portsMoved'>,
    private readonly beam: { readonly liveFiles: Pick<LiveFiles, 'write'> },
  ) {}

  /** From the proxy's spawn to its readiness (overlapping the BEAM's boot). */
  public get tookMs(): number | undefined {
    return this.proxy.readyMs;
  }

  public async start(signal: AbortSignal): Promise<void> {
    await this.proxy.spawn(signal);
    if (signal.aborted) return;
    await this.proxy.ready;
    // The BEAM's files (state, hosts) were written before a port moved: written again, true.
    if (this.proxy.portsMoved) this.beam.liveFiles.write();
  }

  /** The proxy step stops the proxy. */
  public async stop(): Promise<void> {}
}

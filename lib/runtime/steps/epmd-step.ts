import { splitNodeName } from '../../manifest/names';
import { epmdPeers } from '../epmd/peers';
import { epmdGuardWarnings } from '../epmd-guard';
import { EpmdServer } from '../epmd/server';
import { RuntimeFailure } from '../errors';
import { RunOptions } from '../run-options';
import { BootStep, made, Registered, SidecarReadiness } from './boot-step';

/**
 * How long a peer lookup (PORT_PLEASE2) may wait for the proxy's listeners: below the BEAM's
 * connection setup time (net_setuptime, 7 s), so a lookup held this long still gets its answer.
 */
export const PEER_LOOKUP_HOLD_MS = 5000;

/** From the BEAM's registration to the check of port 4369: after its first connections. */
const GUARD_CHECK_DELAY_MS = 1000;

/** What the EPMD step reads of the steps before it, and the sidecar's readiness it holds peer lookups on. */
export interface EpmdInputs {
  readonly register: Registered;
  readonly sidecar: Pick<SidecarReadiness, 'settled'>;
}

/**
 * The EPMD server on 127.0.0.1 and every peer host's address, routes set once from final ports.
 * Peer lookups wait for the sidecar's listeners from the start (the BEAM's first dial finds its
 * upstream listener bound); the host's port 4369 is checked once the node's BEAM registered.
 */
export class EpmdStep implements BootStep {
  public readonly name = 'epmd';
  private epmd?: EpmdServer;
  private listening = false;
  private guardCheck?: NodeJS.Timeout;

  constructor(private readonly o: Pick<RunOptions, 'manifest' | 'log' | 'metrics'>, private readonly from: EpmdInputs) {}

  /** The server, listening (its port is the EPMD port in force). */
  public get server(): EpmdServer {
    return made(this.listening ? this.epmd : undefined, this.name);
  }

  public async start(): Promise<void> {
    const m = this.o.manifest;
    const metrics = this.o.metrics;
    const ports = this.from.register.registration.ports;
    const addresses = [...new Set(['127.0.0.1', ...ports.upstreams.map((u) => u.address)])];
    const epmd = new EpmdServer({
      port: m.epmdPort,
      addresses,
      peers: epmdPeers(ports.upstreams),
      own: { alive: splitNodeName(m.node).alive, port: ports.distPort },
      log: this.o.log,
      observer: metrics && { lookup: (r) => metrics.epmdLookup(r), refused: () => metrics.epmdRefused(), peers: (n) => metrics.upstreams(n) },
    });
    this.epmd = epmd;
    try {
      await epmd.start();
    } catch (e) {
      throw new RuntimeFailure(`epmdPort: ${(e as Error).message}`);
    }
    this.listening = true;
    epmd.holdPeerLookups(this.from.sidecar.settled, PEER_LOOKUP_HOLD_MS);
    this.o.log(`epmd :${epmd.port} on ${addresses.join(', ')} (${epmd.transportName === 'handle' ? 'libuv handles' : 'node:net'})`);
    if (process.platform === 'linux') epmd.once('registered', () => this.checkGuard());
  }

  /**
   * Warns when nothing guards the host's port 4369. Read from the kernel's socket tables, which
   * on a busy host cost tens of ms: later than the BEAM's registration, so not in the way of the
   * BEAM's boot nor of its first lookups, which the helper answers.
   */
  private checkGuard(): void {
    this.guardCheck = setTimeout(() => {
      for (const w of epmdGuardWarnings()) this.o.log(`warning: ${w}`);
    }, GUARD_CHECK_DELAY_MS);
    this.guardCheck.unref();
  }

  public async stop(): Promise<void> {
    clearTimeout(this.guardCheck);
    await this.epmd?.close();
  }
}

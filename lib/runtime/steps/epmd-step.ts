import { splitNodeName } from '../../manifest/names';
import { epmdPeers } from '../epmd/peers';
import { epmdGuardWarnings } from '../epmd-guard';
import { EpmdServer } from '../epmd/server';
import { RuntimeFailure } from '../errors';
import { RunOptions } from '../run-options';
import { BootStep, made, Registered } from './boot-step';

/** The EPMD server on 127.0.0.1 and every peer host's address, routes set once from final ports. */
export class EpmdStep implements BootStep {
  public readonly name = 'epmd';
  private epmd?: EpmdServer;
  private listening = false;

  constructor(private readonly o: Pick<RunOptions, 'manifest' | 'log' | 'metrics'>, private readonly from: { readonly register: Registered }) {}

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
    this.o.log(`epmd :${epmd.port} on ${addresses.join(', ')} (${epmd.transportName === 'handle' ? 'libuv handles' : 'node:net'})`);
    if (process.platform === 'linux') for (const w of epmdGuardWarnings()) this.o.log(`warning: ${w}`);
  }

  public async stop(): Promise<void> {
    await this.epmd?.close();
  }
}

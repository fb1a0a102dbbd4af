import { hostMap } from '../beam-env';
import { DnsServer } from '../dns/server';
import { RuntimeFailure } from '../errors';
import { RunOptions } from '../run-options';
import { BootStep, made, Registered } from './boot-step';

/**
 * The loopback DNS responder the BEAM's inetrc names (`dns` lookup): a free TCP port on
 * 127.0.0.1, picked by listening on port 0 so no other process can take it between pick and
 * use, answering the boot's host map until the beam step and the watch replace it.
 */
export class DnsStep implements BootStep {
  public readonly name = 'dns';
  private dns?: DnsServer;
  private listening = false;

  constructor(private readonly o: Pick<RunOptions, 'manifest' | 'log'>, private readonly from: { readonly register: Registered }) {}

  public get server(): DnsServer {
    return made(this.listening ? this.dns : undefined, this.name);
  }

  public async start(): Promise<void> {
    const dns = new DnsServer();
    this.dns = dns;
    try {
      await dns.start();
    } catch (e) {
      throw new RuntimeFailure(`dns: cannot listen on 127.0.0.1 for the BEAM's host lookups: ${(e as Error).message}`);
    }
    dns.setHosts(hostMap(this.o.manifest.node, this.from.register.registration.ports.upstreams));
    this.listening = true;
    this.o.log(`dns :${dns.port} on 127.0.0.1 (tcp)`);
  }

  public async stop(): Promise<void> {
    await this.dns?.close();
  }
}

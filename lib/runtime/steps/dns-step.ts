import { hostMap } from '../beam-env';
import { BootStep } from '../context';
import { DnsServer } from '../dns/server';
import { RuntimeFailure } from '../errors';

/**
 * The loopback DNS responder the BEAM's inetrc names (`dns` lookup): a free TCP port on
 * 127.0.0.1, picked by listening on port 0 so no other process can take it between pick and
 * use, answering the boot's host map until the beam step and the watch replace it.
 */
export const dnsStep: BootStep = {
  name: 'dns',
  async start(ctx) {
    const dns = new DnsServer();
    ctx.dns = dns;
    try {
      await dns.start();
    } catch (e) {
      throw new RuntimeFailure(`dns: cannot listen on 127.0.0.1 for the BEAM's host lookups: ${(e as Error).message}`);
    }
    dns.setHosts(hostMap(ctx.o.manifest.node, ctx.ports!.upstreams));
    ctx.o.log(`dns :${dns.port} on 127.0.0.1 (tcp)`);
  },
  async stop(ctx) {
    await ctx.dns?.close();
  },
};

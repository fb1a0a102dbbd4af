import { splitNodeName } from '../../manifest/names';
import { BootStep } from '../context';
import { EpmdServer } from '../epmd/server';
import { RuntimeFailure } from '../errors';
import { ResolvedPorts } from '../registration';

/** EPMD routes of the upstreams: (address asked on, alive name) -> upstream listener port. */
export function epmdPeers(upstreams: ResolvedPorts['upstreams']): Array<{ address: string; alive: string; port: number }> {
  return upstreams.map((u) => ({ address: u.address, alive: splitNodeName(u.node).alive, port: u.port }));
}

/** The EPMD server on 127.0.0.1 and every peer host's address, routes set once from final ports. */
export const epmdStep: BootStep = {
  name: 'epmd',
  async start(ctx) {
    const m = ctx.o.manifest;
    const upstreams = ctx.ports!.upstreams;
    const addresses = [...new Set(['127.0.0.1', ...upstreams.map((u) => u.address)])];
    const epmd = new EpmdServer({
      port: m.epmdPort,
      addresses,
      peers: epmdPeers(upstreams),
      own: { alive: splitNodeName(m.node).alive, port: ctx.ports!.distPort },
      log: ctx.o.log,
    });
    ctx.epmd = epmd;
    try {
      await epmd.start();
    } catch (e) {
      throw new RuntimeFailure(`epmdPort: ${(e as Error).message}`);
    }
    ctx.ports = { ...ctx.ports!, epmdPort: epmd.port };
    ctx.o.log(`epmd :${epmd.port} on ${addresses.join(', ')} (${epmd.transportName === 'handle' ? 'libuv handles' : 'node:net'})`);
  },
  async stop(ctx) {
    await ctx.epmd?.close();
  },
};

import { ProxyKind } from '../../manifest/types';
import { RuntimeFailure } from '../errors';
import { HeldPorts, PortPicks, Reservation, reserveFreePort, reservePort, resolvePort } from '../ports';
import { RunOptions } from '../run-options';
import { BootStep, made } from './boot-step';

/**
 * Zeros picked, fixed ports proven free, before anything is registered. Picks stay bound by the
 * helper until the proxy or the BEAM is about to bind them: helpers of one host booting at the
 * same moment draw from the same range and would otherwise take each other's picks.
 */
export class PortsStep implements BootStep {
  public readonly name = 'ports';
  public readonly held = new HeldPorts();
  private result?: PortPicks;

  constructor(private readonly o: Pick<RunOptions, 'manifest' | 'proxyKind'>) {}

  public get picks(): PortPicks {
    return made(this.result, this.name);
  }

  public async start(): Promise<void> {
    const m = this.o.manifest;
    const held = this.held;
    const check = <T>(p: Promise<T>) => p.catch((e) => Promise.reject(new RuntimeFailure((e as Error).message)));
    const keep = (into: Reservation[]) => (r: { port: number; held?: Reservation }) => (r.held && into.push(r.held), r.port);
    // Listeners must differ by address and port: fixed ones first, then the picks (the dist
    // port and a same-host peer's upstream share 127.0.0.1).
    const taken = new Set(m.upstreams.filter((u) => u.port).map((u) => `${u.address}:${u.port}`));
    if (m.service.distPort) taken.add(`127.0.0.1:${m.service.distPort}`);
    // The EPMD server listens on 127.0.0.1 and on every peer address.
    if (m.epmdPort) for (const a of ['127.0.0.1', ...m.upstreams.map((u) => u.address)]) taken.add(`${a}:${m.epmdPort}`);
    const distPort = await check(reservePort('service.distPort', '127.0.0.1', m.service.distPort, taken).then(keep(held.dist)));
    const upstreams = [];
    for (const [i, u] of m.upstreams.entries()) {
      const field = `upstreams[${i}].port (${u.node})`;
      upstreams.push({ ...u, port: await check(reservePort(field, u.address, u.port, taken).then(keep(held.proxy))) });
    }
    if (m.epmdPort) await check(resolvePort('epmdPort', '127.0.0.1', m.epmdPort));
    if (m.sidecar.port) await check(resolvePort('sidecar.port', '0.0.0.0', m.sidecar.port));
    let adminBind: string | undefined;
    if (this.o.proxyKind === ProxyKind.ENVOY) {
      const admin = await reserveFreePort('127.0.0.1', taken);
      held.proxy.push(admin);
      adminBind = `127.0.0.1:${admin.port}`;
    }
    this.result = { ports: { distPort, sidecarPort: 0, upstreams }, adminBind, held };
  }

  public async stop(): Promise<void> {
    // Picks the boot did not get to hand over (it failed or stopped before the proxy or BEAM).
    await this.held.release('proxy');
    await this.held.release('dist');
  }
}

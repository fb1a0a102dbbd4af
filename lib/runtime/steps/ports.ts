import { ProxyKind } from '../../manifest/types';
import { BootStep } from '../context';
import { RuntimeFailure } from '../errors';
import { pickFreePort, resolvePort } from '../ports';

/** Zeros picked, fixed ports proven free, before anything is registered. */
export const portsStep: BootStep = {
  name: 'ports',
  async start(ctx) {
    const m = ctx.o.manifest;
    const check = <T>(p: Promise<T>) => p.catch((e) => Promise.reject(new RuntimeFailure((e as Error).message)));
    // Listeners must differ by address and port: fixed ones first, then the picks (the dist
    // port and a same-host peer's upstream share 127.0.0.1).
    const taken = new Set(m.upstreams.filter((u) => u.port).map((u) => `${u.address}:${u.port}`));
    if (m.service.distPort) taken.add(`127.0.0.1:${m.service.distPort}`);
    // The EPMD server listens on 127.0.0.1 and on every peer address.
    if (m.epmdPort) for (const a of ['127.0.0.1', ...m.upstreams.map((u) => u.address)]) taken.add(`${a}:${m.epmdPort}`);
    const distPort = await check(resolvePort('service.distPort', '127.0.0.1', m.service.distPort, taken));
    const upstreams = [];
    for (const [i, u] of m.upstreams.entries()) {
      upstreams.push({ ...u, port: await check(resolvePort(`upstreams[${i}].port (${u.node})`, u.address, u.port, taken)) });
    }
    if (m.epmdPort) await check(resolvePort('epmdPort', '127.0.0.1', m.epmdPort));
    if (m.sidecar.port) await check(resolvePort('sidecar.port', '0.0.0.0', m.sidecar.port));
    if (ctx.o.proxyKind === ProxyKind.ENVOY) ctx.adminBind = `127.0.0.1:${await pickFreePort('127.0.0.1', taken)}`;
    ctx.ports = { epmdPort: m.epmdPort, distPort, sidecarPort: 0, upstreams };
  },
  async stop() {
    // Nothing held: ports are probed and released.
  },
};

import { BootStep } from '../context';
import { proxyCommand } from '../proxy-command';
import { waitProxyReady } from '../proxy-ready';
import { ProxySupervisor } from '../proxy-supervisor';
import { sidecarId } from '../registration';

/** The sidecar proxy, supervised (restarted with backoff); ready when every listener accepts. */
export const proxyStep: BootStep = {
  name: 'proxy-ready',
  async start(ctx) {
    const { o } = ctx;
    const argv = proxyCommand({
      kind: o.proxyKind,
      consulBin: o.consulBin,
      proxyId: sidecarId(o.manifest),
      serviceId: o.manifest.service.id,
      httpAddr: o.agent.baseUrl,
      tokenFile: o.tokenFile,
      adminBind: ctx.adminBind,
      grpcAddr: o.grpcAddr,
      envoyBin: o.envoyBin,
    });
    const proxy = new ProxySupervisor({ argv, env: o.env, output: o.proxyOutput, log: o.log });
    ctx.proxy = proxy;
    proxy.start();
    await waitProxyReady(ctx.ports!, { kind: o.proxyKind, adminBind: ctx.adminBind, timeoutMs: o.readyTimeoutMs, proxy, signal: ctx.signal });
    o.log(`proxy ready (${o.proxyKind}, pid ${proxy.pid})`);
  },
  // Before the BEAM drains: a proxy that exits during shutdown is not restarted.
  preStop(ctx) {
    ctx.proxy?.hold();
  },
  async stop(ctx) {
    await ctx.proxy?.stop(ctx.killNow ? 0 : 5000);
  },
};

import { BootStep } from '../context';
import { proxyCommand } from '../proxy/command';
import { ListenerTaken, waitProxyReady } from '../proxy/readiness';
import { ProxySupervisor } from '../proxy/supervisor';
import { sidecarId } from '../registration';
import { releaseHeld } from './ports-step';
import { moveSidecar, moveUpstream } from './registration-step';

/** The sidecar proxy, supervised (restarted with backoff); ready when it holds every listener. */
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
      tokenFile: ctx.tokenFile ?? o.tokenFile,
      adminBind: ctx.adminBind,
      grpcAddr: o.grpcAddr,
      envoyBin: o.envoyBin,
    });
    // An https agent: the proxy (a consul CLI) gets the helper's CA, client certificate and
    // server name through the variables it reads, whether they came from flags or environment.
    const env = { ...o.env, ...o.agent.cliEnv?.() };
    const proxy = new ProxySupervisor({ argv, env, output: o.proxyOutput, log: o.log });
    ctx.proxy = proxy;
    await releaseHeld(ctx, 'proxy');
    proxy.start();
    for (let moves = 0; ; moves++) {
      try {
        await waitProxyReady(ctx.ports!, { kind: o.proxyKind, adminBind: ctx.adminBind, timeoutMs: o.readyTimeoutMs, proxy, signal: ctx.signal });
        break;
      } catch (e) {
        // A port proven free before was bound since by another process: the sidecar port by
        // another agent's proxy (agents all hand out ports from 21000), an upstream port by
        // another helper of this host booting at the same moment. Move, a few times at most.
        if (!(e instanceof ListenerTaken) || moves >= 3) throw e;
        await proxy.stop();
        if (e.what === 'public listener' && !o.manifest.sidecar.port) {
          o.log(`${e.message}; moving the sidecar`);
          await moveSidecar(ctx);
        } else if (!(e.what === 'upstream' && (await moveUpstream(ctx, e.address, e.port)))) {
          throw e;
        }
        proxy.start();
      }
    }
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

import { BootContext, BootStep, liveManifest } from '../context';
import { isFree } from '../ports';
import { serviceDefinition } from '../registration';
import { moveSidecar } from './registration-step';

/** How long one renewal (a new login after the agent lost the token) may retry. */
export const RENEW_DEADLINE_MS = 60_000;

const stopping = new WeakSet<BootContext>();

/**
 * With --login-method: the node's token from an auth-method login, early in the boot so that it
 * is undone last (logout after the deregistration). The token goes to the proxy through a 0600
 * file in the state dir, removed at stop. When the agent says the token is gone (revoked,
 * expired), every request waits for a new login (the bearer token file read again), then the
 * service is registered again with the new token and the proxy restarted to read it.
 */
export const loginStep: BootStep = {
  name: 'login',
  async start(ctx) {
    const { o } = ctx;
    const login = o.login;
    if (!login) return;
    await login.login(); // done already when the manifest came from KV
    o.stateDir.writeToken(login.token!);
    ctx.tokenFile = o.stateDir.tokenPath;
    o.agent.onTokenGone(async () => {
      const secret = await login.renew(RENEW_DEADLINE_MS);
      o.stateDir.writeToken(secret);
      // After the renewal settles: these requests use the new token.
      setImmediate(() => void afterRenewal(ctx));
      return secret;
    });
  },
  preStop(ctx) {
    stopping.add(ctx);
  },
  async stop(ctx) {
    stopping.add(ctx);
    if (!ctx.o.login) return;
    await ctx.o.login.logout();
    ctx.o.stateDir.removeToken();
  },
};

/** The agent syncs the service with its registration's token, and the proxy read its token at start. */
async function afterRenewal(ctx: BootContext): Promise<void> {
  const { o } = ctx;
  if (stopping.has(ctx)) return;
  try {
    if (ctx.ports && ctx.proxy) {
      await o.agent.registerService(serviceDefinition(liveManifest(ctx), ctx.ports, process.pid, ctx.distCheck));
      o.log(`registered ${o.manifest.service.id} again with the new token`);
    }
    if (ctx.proxy && !stopping.has(ctx)) {
      await ctx.proxy.stop(5000);
      if (stopping.has(ctx)) return;
      // The agent-assigned sidecar port was free only while our proxy held it: another
      // process on the host (another agent's proxy) may have taken it in between. Then move.
      if (ctx.ports && !o.manifest.sidecar.port && !(await isFree('0.0.0.0', ctx.ports.sidecarPort))) await moveSidecar(ctx);
      if (!stopping.has(ctx)) ctx.proxy.start();
    }
  } catch (e) {
    o.log(`after the new login: ${(e as Error).message}`);
  }
}

import { splitNodeName } from '../../manifest/names';
import { ManifestUpstream, NodeManifest } from '../../manifest/types';
import { BootContext, liveManifest } from '../context';
import { RuntimeFailure } from '../errors';
import { resolvePort } from '../ports';
import { waitProxyReady } from '../proxy/readiness';
import { portsFromSidecar, ResolvedPorts, serviceDefinition, sidecarId } from '../registration';
import { writeLiveFiles } from './outputs';
import { UpstreamPlan } from './versions';

/**
 * Puts a planned version in force while the BEAM runs, in the order that never routes the BEAM
 * to a listener that is not there: ports for new upstreams, EPMD listening on new peer
 * addresses, the sidecar registered again (same ID and ports, new upstream list: the agent hands
 * it to the running proxy), its new listeners proven up, then EPMD routes, host map and files.
 * On a failure the previous registration is restored and the error thrown: nothing switched.
 */
export async function applyVersion(ctx: BootContext, next: NodeManifest, plan: UpstreamPlan): Promise<void> {
  const before = ctx.ports!;
  const upstreams = await portsForNew(plan);
  for (const address of new Set(upstreams.map((u) => u.address))) await ctx.epmd!.addAddress(address);
  let ports: ResolvedPorts = { ...before, upstreams };
  try {
    ports = await registerSidecar(ctx, next, ports);
    await waitListeners(ctx, ports);
  } catch (e) {
    await ctx.o.agent.registerService(serviceDefinition(liveManifest(ctx), before, process.pid, ctx.distCheck)).catch(() => undefined);
    throw e;
  }
  ctx.epmd!.setPeers(ports.upstreams.map((u) => ({ address: u.address, alive: splitNodeName(u.node).alive, port: u.port })));
  ctx.ports = ports;
  ctx.manifest = next;
  writeLiveFiles(ctx);
}

/** Free ports for the new upstreams that ask for one (0), fixed ones proven free. */
async function portsForNew(plan: UpstreamPlan): Promise<ManifestUpstream[]> {
  const fresh = new Set(plan.added);
  // Kept and fixed listeners stay as they are; new picks must not land on one of them.
  const taken = new Set(plan.upstreams.filter((u) => !fresh.has(u) || u.port).map((u) => `${u.address}:${u.port}`));
  const out: ManifestUpstream[] = [];
  for (const [i, u] of plan.upstreams.entries()) {
    if (!fresh.has(u)) {
      out.push(u);
      continue;
    }
    try {
      out.push({ ...u, port: await resolvePort(`upstreams[${i}].port (${u.node})`, u.address, u.port, taken) });
    } catch (e) {
      throw new RuntimeFailure((e as Error).message);
    }
  }
  return out;
}

/** The sidecar with the new upstream list, and the ports the agent put in force. */
async function registerSidecar(ctx: BootContext, next: NodeManifest, ports: ResolvedPorts): Promise<ResolvedPorts> {
  await ctx.o.agent.registerService(serviceDefinition(next, ports, process.pid, ctx.distCheck));
  const reg = await ctx.o.agent.service(sidecarId(next));
  if (!reg) throw new RuntimeFailure(`the agent lost the sidecar ${sidecarId(next)}`);
  return portsFromSidecar(ports, reg);
}

/**
 * The running proxy opens new upstream listeners from the agent's update. If it does not within
 * the ready timeout, the proxy alone is restarted (never the BEAM or the helper) and waited for.
 */
async function waitListeners(ctx: BootContext, ports: ResolvedPorts): Promise<void> {
  const { o } = ctx;
  const wait = () => waitProxyReady(ports, { kind: o.proxyKind, adminBind: ctx.adminBind, timeoutMs: o.readyTimeoutMs, proxy: ctx.proxy! });
  try {
    await wait();
  } catch (e) {
    o.log(`the proxy did not open the new listeners (${(e as Error).message}); restarting the proxy`);
    await ctx.proxy!.stop(5000);
    ctx.proxy!.start();
    await wait();
  }
}

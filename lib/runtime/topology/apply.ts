import { NodeManifest } from '../../manifest/types';
import { epmdPeers } from '../epmd/peers';
import { EpmdServer } from '../epmd/server';
import { RuntimeFailure } from '../errors';
import { LiveRegistration } from '../live-registration';
import { resolvePort } from '../ports';
import { waitProxyReady } from '../proxy/readiness';
import { ProxySupervisor } from '../proxy/supervisor';
import { ResolvedPorts, RoutedUpstream } from '../registration';
import { RunOptions } from '../run-options';
import { LiveFiles } from './outputs';
import { UpstreamPlan } from './versions';

/** What a new version changes on a running node, as the boot steps made it. */
export interface LiveNode {
  readonly o: Pick<RunOptions, 'log' | 'proxyKind' | 'readyTimeoutMs' | 'metrics'>;
  readonly registration: LiveRegistration;
  readonly epmd: Pick<EpmdServer, 'addAddress' | 'setPeers'>;
  readonly proxy: Pick<ProxySupervisor, 'start' | 'stop' | 'pid' | 'restartCount'> & Partial<Pick<ProxySupervisor, 'onListenerStart'>>;
  /** Envoy's admin listener, for readiness. */
  readonly adminBind?: string;
  readonly files: LiveFiles;
}

/**
 * Puts a planned version in force while the BEAM runs, in the order that never routes the BEAM
 * to a listener that is not there: ports for new upstreams, EPMD listening on new peer
 * addresses, the sidecar registered again (same ID and ports, new upstream list: the agent hands
 * it to the running proxy), its new listeners proven up, then EPMD routes, host map and files.
 * A version that adds no upstream (a peer gone) has nothing to wait for: it is routed first and
 * registered after, so the BEAM stops finding a gone peer without waiting for the agent (with
 * hundreds of upstreams a registration takes tens of ms). On a failure the previous
 * registration is restored, and the previous routes and files if they had switched, and the
 * error thrown: nothing switched.
 */
export async function applyVersion(node: LiveNode, next: NodeManifest, plan: UpstreamPlan): Promise<void> {
  const { registration } = node;
  const before = { manifest: registration.manifest, ports: registration.ports };
  const upstreams = await portsForNew(plan);
  for (const address of new Set(upstreams.map((u) => u.address))) await node.epmd.addAddress(address);
  let ports: ResolvedPorts = { ...before.ports, upstreams };
  const routedFirst = plan.added.length === 0;
  if (routedFirst) route(node, next, ports);
  try {
    // The sidecar with the new upstream list, and the ports the agent put in force.
    const registered = await registration.registerVersion(next, ports);
    if (routedFirst) {
      // The agent chose a port after all (none at run time): the files say the one it chose.
      if (registered !== ports) route(node, next, registered);
      return;
    }
    ports = registered;
    await waitListeners(node, ports, new Set(plan.added.map((u) => u.node)));
  } catch (e) {
    if (routedFirst) route(node, before.manifest, before.ports);
    await registration.register(before.manifest, before.ports).catch(() => undefined);
    throw e;
  }
  route(node, next, ports);
}

/** EPMD routes, the registration in force, host map and files: what the BEAM and scripts see. */
function route(node: LiveNode, manifest: NodeManifest, ports: ResolvedPorts): void {
  node.epmd.setPeers(epmdPeers(ports.upstreams));
  node.registration.switchTo(manifest, ports);
  node.files.write();
}

/** Free ports for the new upstreams that ask for one (0), fixed ones proven free. */
async function portsForNew(plan: UpstreamPlan): Promise<RoutedUpstream[]> {
  const fresh = new Set(plan.added);
  // Kept and fixed listeners stay as they are; new picks must not land on one of them.
  const taken = new Set(plan.upstreams.filter((u) => !fresh.has(u) || u.port).map((u) => `${u.address}:${u.port}`));
  const out: RoutedUpstream[] = [];
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

/**
 * The running proxy opens new upstream listeners from the agent's update. If it does not within
 * the ready timeout, the proxy alone is restarted (never the BEAM or the helper) and waited for.
 * Nothing added (a removal): nothing to wait for.
 */
async function waitListeners(node: LiveNode, ports: ResolvedPorts, added: ReadonlySet<string>): Promise<void> {
  const { o, proxy } = node;
  const ready = { kind: o.proxyKind, adminBind: node.adminBind, timeoutMs: o.readyTimeoutMs, proxy };
  const fresh = ports.upstreams.filter((u) => added.has(u.node));
  if (fresh.length === 0) return;
  try {
    // The kept listeners were proven when they were added, the public one at the proxy's start,
    // and a running proxy keeps them: with hundreds of peers, checking them all again was most
    // of a change's cost.
    // Looked at as the proxy says it starts them, not at the next check of the backoff.
    const news = proxy.onListenerStart?.bind(proxy);
    await waitProxyReady({ ...ports, upstreams: fresh }, { ...ready, publicListener: false, news });
  } catch (e) {
    o.log(`the proxy did not open the new listeners (${(e as Error).message}); restarting the proxy`);
    await proxy.stop(5000);
    proxy.start();
    await waitProxyReady(ports, ready);
  }
}

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
  readonly proxy: Pick<ProxySupervisor, 'start' | 'stop' | 'pid' | 'restartCount'>;
  /** Envoy's admin listener, for readiness. */
  readonly adminBind?: string;
  readonly files: LiveFiles;
}

/**
 * Puts a planned version in force while the BEAM runs, in the order that never routes the BEAM
 * to a listener that is not there: ports for new upstreams, EPMD listening on new peer
 * addresses, the sidecar registered again (same ID and ports, new upstream list: the agent hands
 * it to the running proxy), its new listeners proven up, then EPMD routes, host map and files.
 * On a failure the previous registration is restored and the error thrown: nothing switched.
 */
export async function applyVersion(node: LiveNode, next: NodeManifest, plan: UpstreamPlan): Promise<void> {
  const { registration } = node;
  const before = registration.ports;
  const upstreams = await portsForNew(plan);
  for (const address of new Set(upstreams.map((u) => u.address))) await node.epmd.addAddress(address);
  let ports: ResolvedPorts = { ...before, upstreams };
  try {
    // The sidecar with the new upstream list, and the ports the agent put in force.
    ports = await registration.registerVersion(next, ports);
    await waitListeners(node, ports, new Set(plan.added.map((u) => u.node)));
  } catch (e) {
    await registration.register(registration.manifest, before).catch(() => undefined);
    throw e;
  }
  node.epmd.setPeers(epmdPeers(ports.upstreams));
  registration.switchTo(next, ports);
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
 */
async function waitListeners(node: LiveNode, ports: ResolvedPorts, added: ReadonlySet<string>): Promise<void> {
  const { o, proxy } = node;
  const wait = (p: ResolvedPorts) => waitProxyReady(p, { kind: o.proxyKind, adminBind: node.adminBind, timeoutMs: o.readyTimeoutMs, proxy });
  try {
    // The kept listeners were proven when they were added, and a running proxy keeps them: with
    // hundreds of peers, checking them all again was most of a change's cost.
    await wait({ ...ports, upstreams: ports.upstreams.filter((u) => added.has(u.node)) });
  } catch (e) {
    o.log(`the proxy did not open the new listeners (${(e as Error).message}); restarting the proxy`);
    await proxy.stop(5000);
    proxy.start();
    await wait(ports);
  }
}

import { SIDECAR_SUFFIX } from '../manifest/rules';
import { ManifestUpstream, NodeManifest } from '../manifest/types';
import { SidecarRegistration } from './consul-agent';

/** Ports in force for one boot (manifest zeros replaced). */
export interface ResolvedPorts {
  readonly epmdPort: number;
  readonly distPort: number;
  /** 0 until the agent's assignment is read back. */
  readonly sidecarPort: number;
  readonly upstreams: ManifestUpstream[];
}

/** Service meta key naming the pid of the helper that registered the node. */
export const HELPER_PID_META = 'meshx_helper_pid';

export function sidecarId(m: NodeManifest): string {
  return `${m.service.id}${SIDECAR_SUFFIX}`;
}

/** The node's one TTL check, driven from the BEAM's EPMD registration and the proxy's readiness. */
export function beamCheckId(m: NodeManifest): string {
  return `${m.service.id}:beam`;
}

/**
 * The agent service definition for a node: its distribution port, a TTL check that starts
 * critical and reaps the service if the helper dies, and the sidecar with one upstream per peer
 * on that peer host's loopback address.
 */
export function serviceDefinition(m: NodeManifest, ports: ResolvedPorts, helperPid?: number): Record<string, unknown> {
  const sidecar: Record<string, unknown> = {
    // Instead of the default TCP check (first run staggered up to 10s, so peers would find no
    // healthy instance for seconds): the alias of the node's own check, which the helper passes
    // only while the proxy holds its listeners too. One TTL check, so one update per heartbeat
    // (an idle helper's CPU is mostly its heartbeats; the agent gets half the writes).
    Checks: [{ CheckID: `${m.service.id}:alias`, Name: `Sidecar aliasing ${m.service.id}`, AliasService: m.service.id }],
    Proxy: {
      LocalServiceAddress: '127.0.0.1',
      LocalServicePort: ports.distPort,
      Upstreams: ports.upstreams.map((u) => ({
        DestinationType: 'service',
        DestinationName: u.service,
        LocalBindAddress: u.address,
        LocalBindPort: u.port,
        ...(u.datacenter ? { Datacenter: u.datacenter } : {}),
      })),
    },
  };
  // Once the agent assigned a port, keep it on re-registration (upstream peers know it).
  const sidecarPort = ports.sidecarPort || m.sidecar.port;
  if (sidecarPort) sidecar.Port = sidecarPort;
  return {
    ID: m.service.id,
    Name: m.service.name,
    Tags: m.service.tags,
    // The helper's pid: a second helper of the node on this host finds the first through the agent.
    Meta: helperPid ? { ...m.service.meta, [HELPER_PID_META]: String(helperPid) } : m.service.meta,
    Port: ports.distPort,
    Checks: [
      {
        CheckID: beamCheckId(m),
        Name: `BEAM ${m.node} registered with EPMD, sidecar proxy listening`,
        TTL: m.service.ttl,
        Status: 'critical',
        Notes: 'Passing while the BEAM is registered and its sidecar runs (meshx-node).',
        DeregisterCriticalServiceAfter: m.service.deregisterCriticalAfter,
      },
    ],
    Connect: { SidecarService: sidecar },
  };
}

/**
 * Reads the ports in force from the sidecar registration the agent reports. Every upstream
 * of the manifest must be there with a port, or the registration was not what we sent.
 */
export function portsFromSidecar(ports: ResolvedPorts, reg: SidecarRegistration): ResolvedPorts {
  const byName = new Map((reg.Proxy.Upstreams ?? []).map((u) => [u.DestinationName, u]));
  const upstreams = ports.upstreams.map((u) => {
    const got = byName.get(u.service);
    if (!got || !got.LocalBindPort) throw new Error(`the agent's sidecar registration has no upstream to '${u.service}'`);
    return { ...u, port: got.LocalBindPort, address: got.LocalBindAddress || u.address };
  });
  if (!reg.Port) throw new Error('the agent assigned no port to the sidecar');
  return { ...ports, sidecarPort: reg.Port, upstreams };
}

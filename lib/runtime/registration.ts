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

/** The node's TTL check, which the helper sets as the BEAM's EPMD registration and the proxy come and go. */
export function beamCheckId(m: NodeManifest): string {
  return `${m.service.id}:beam`;
}

/** The agent's own TCP check on the sidecar's public listener: a dead helper takes its proxy with it. */
export function sidecarCheckId(m: NodeManifest): string {
  return `${m.service.id}:sidecar`;
}

/** How often the agent dials the sidecar (Consul's own sidecar check uses the same interval). */
export const SIDECAR_CHECK_INTERVAL = '10s';

/**
 * The agent service definition for a node: its distribution port, a TTL check that starts
 * critical, and the sidecar with one upstream per peer on that peer host's loopback address.
 * The TCP check on the sidecar joins once the proxy listens (`withSidecarCheck`, sidecarCheckDefinition):
 * a registration replaces the service's checks, and keeps the status of those it names again.
 */
export function serviceDefinition(m: NodeManifest, ports: ResolvedPorts, helperPid?: number, withSidecarCheck = false): Record<string, unknown> {
  const sidecar: Record<string, unknown> = {
    // Instead of the default TCP check (first run staggered up to 10s, so peers would find no
    // healthy instance for seconds): the alias of the node's own checks, which pass only while
    // the BEAM is registered and the proxy holds its listeners.
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
        Notes: 'Set by meshx-node as the BEAM and its sidecar come and go; refreshed at a third of the TTL.',
        DeregisterCriticalServiceAfter: m.service.deregisterCriticalAfter,
      },
      ...(withSidecarCheck ? [{ CheckID: sidecarCheckId(m), ...sidecarCheck(m, ports) }] : []),
    ],
    Connect: { SidecarService: sidecar },
  };
}

/**
 * The node's liveness, checked by the agent: a TCP connect to the sidecar's public listener every
 * 10 s. The helper's SIGKILL takes the proxy and the BEAM with it (parent-death signal), so this
 * turns the node critical (and reaps it) without the helper waking up to heartbeat. Registered
 * once the proxy listens, passing: registered with the service, its first run (staggered up to
 * the interval) could come before the proxy listens and hold the node critical for 10 s. The
 * listener binds every address; the agent is local.
 */
export function sidecarCheckDefinition(m: NodeManifest, ports: ResolvedPorts): Record<string, unknown> {
  return { ID: sidecarCheckId(m), ServiceID: m.service.id, ...sidecarCheck(m, ports) };
}

function sidecarCheck(m: NodeManifest, ports: ResolvedPorts): Record<string, unknown> {
  return {
    Name: `Sidecar proxy of ${m.node} accepting`,
    TCP: `127.0.0.1:${ports.sidecarPort}`,
    Interval: SIDECAR_CHECK_INTERVAL,
    Timeout: '2s',
    Status: 'passing',
    Notes: 'Refused while the proxy is down: restarting, or gone with its helper and BEAM (they die together).',
    DeregisterCriticalServiceAfter: m.service.deregisterCriticalAfter,
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

import { SIDECAR_SUFFIX } from '../manifest/rules';
import { ManifestUpstream, NodeManifest } from '../manifest/types';
import { SidecarRegistration } from './consul/agent';

/**
 * An upstream as the helper routes it: a manifest's (to a peer's service), or one member of a
 * peer group, reached through a prepared query that finds that one instance.
 */
export interface RoutedUpstream extends ManifestUpstream {
  /** The prepared query naming the member (`meshx~<mesh>~<service>~<node>`); undefined for a single node. */
  readonly query?: string;
}

/** Ports in force for one boot (manifest zeros replaced); the EPMD port is the EPMD step's. */
export interface ResolvedPorts {
  readonly distPort: number;
  /** 0 until the agent's assignment is read back. */
  readonly sidecarPort: number;
  readonly upstreams: RoutedUpstream[];
}

/** What the sidecar's upstream names as its destination: the member's query, else the service. */
export function destinationOf(u: RoutedUpstream): { DestinationType: string; DestinationName: string } {
  return u.query ? { DestinationType: 'prepared_query', DestinationName: u.query } : { DestinationType: 'service', DestinationName: u.service };
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

/** The agent's own TCP check on the BEAM's distribution listener: a dead helper takes its BEAM with it. */
export function distCheckId(m: NodeManifest): string {
  return `${m.service.id}:dist`;
}

/** How often the agent dials the BEAM (as often as Consul's own sidecar checks dial theirs). */
export const DIST_CHECK_INTERVAL = '10s';

/**
 * The agent service definition for a node: its distribution port, a TTL check that starts
 * critical, and the sidecar with one upstream per peer on that peer host's loopback address.
 * The TCP check on the BEAM joins once the BEAM listens (`withDistCheck`, distCheckDefinition): a
 * registration replaces the service's checks, and keeps the status of those it names again.
 */
export function serviceDefinition(m: NodeManifest, ports: ResolvedPorts, helperPid?: number, withDistCheck = false): Record<string, unknown> {
  const sidecar: Record<string, unknown> = {
    // Instead of the default TCP check (first run staggered up to 10s, so peers would find no
    // healthy instance for seconds): the alias of the node's own checks, which pass only while
    // the BEAM is registered and the proxy holds its listeners.
    Checks: [{ CheckID: `${m.service.id}:alias`, Name: `Sidecar aliasing ${m.service.id}`, AliasService: m.service.id }],
    Proxy: {
      // The manifest's proxy config as is; the keys the helper owns were refused at validation.
      ...(m.sidecar.config ? { Config: m.sidecar.config } : {}),
      LocalServiceAddress: '127.0.0.1',
      LocalServicePort: ports.distPort,
      Upstreams: ports.upstreams.map((u) => ({
        ...destinationOf(u),
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
      ...(withDistCheck ? [{ CheckID: distCheckId(m), ...distCheck(m, ports) }] : []),
    ],
    Connect: { SidecarService: sidecar },
  };
}

/**
 * The node's liveness, checked by the agent: a TCP connect to the BEAM's distribution listener
 * every 10 s. The helper's SIGKILL takes the BEAM and the proxy with it (parent-death signal), so
 * this turns the node critical (and reaps it) without the helper waking up to heartbeat. Not the
 * sidecar's public listener: the built-in proxy dials the BEAM for every connection it accepts
 * there, so each run would cost a proxy-to-BEAM connection too, and one before the BEAM listens
 * logs "failed to dial". Registered once the BEAM listens (its EPMD registration), passing: with
 * the service, its first run (staggered up to the interval) could come first and hold the node
 * critical for 10 s. The BEAM listens on loopback: the agent is local. A BEAM logs nothing for a
 * connection closed before the distribution handshake (OTP 25, checked).
 */
export function distCheckDefinition(m: NodeManifest, ports: ResolvedPorts): Record<string, unknown> {
  return { ID: distCheckId(m), ServiceID: m.service.id, ...distCheck(m, ports) };
}

function distCheck(m: NodeManifest, ports: ResolvedPorts): Record<string, unknown> {
  return {
    Name: `BEAM ${m.node} accepting distribution connections`,
    TCP: `127.0.0.1:${ports.distPort}`,
    Interval: DIST_CHECK_INTERVAL,
    Timeout: '2s',
    Status: 'passing',
    Notes: 'Refused once the BEAM is gone; the helper, its proxy and its BEAM die together (meshx-node).',
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
    const name = destinationOf(u).DestinationName;
    const got = byName.get(name);
    if (!got || !got.LocalBindPort) throw new Error(`the agent's sidecar registration has no upstream to '${name}'`);
    return { ...u, port: got.LocalBindPort, address: got.LocalBindAddress || u.address };
  });
  if (!reg.Port) throw new Error('the agent assigned no port to the sidecar');
  return { ...ports, sidecarPort: reg.Port, upstreams };
}

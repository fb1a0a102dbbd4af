import { createHash } from 'node:crypto';
import { NodeManifest } from '../../manifest/types';
import { hostMap, hostsFile } from '../beam-env';
import { DnsServer } from '../dns/server';
import { LiveRegistration } from '../live-registration';
import { ManifestVersion, RefusedVersion, StateDir } from '../state-dir';

/** A version's identity in state.json: its digest (of the parsed manifest), source and KV index. */
export function versionOf(m: NodeManifest, source: string, index?: number): ManifestVersion {
  const sha256 = createHash('sha256').update(JSON.stringify(m)).digest('hex');
  return { source, ...(index ? { index } : {}), sha256, appliedAt: new Date().toISOString() };
}

/** What the live files are made from: the registration in force, the EPMD port, the DNS responder. */
export interface LiveSources {
  readonly registration: Pick<LiveRegistration, 'manifest' | 'ports'>;
  readonly epmdPort: number;
  readonly dns: Pick<DnsServer, 'port' | 'setHosts'>;
}

/**
 * What scripts and the BEAM read of the version in force: the host map (the DNS responder's
 * first, which the BEAM sees at once; then the hosts file, which inet_db re-reads within 5 s),
 * the peers file, state.json and upstreams.env. Each file is replaced whole. Synchronous: called
 * right after the EPMD routes switch, no lookup is answered between the two.
 */
export class LiveFiles {
  /** The version in force (the boot's, then each one the watch applied). */
  public version: ManifestVersion;
  /** The last version the watch refused. */
  public refused?: RefusedVersion;

  constructor(private readonly stateDir: StateDir, private readonly from: LiveSources, version: ManifestVersion) {
    this.version = version;
  }

  public write(): void {
    const { stateDir, from } = this;
    const m = from.registration.manifest;
    const ports = from.registration.ports;
    from.dns.setHosts(hostMap(m.node, ports.upstreams));
    stateDir.writeHosts(hostsFile(m.node, ports.upstreams));
    stateDir.writePeers(ports.upstreams.map((u) => u.node));
    stateDir.writeState({
      node: m.node,
      serviceId: m.service.id,
      helperPid: process.pid,
      epmdPort: from.epmdPort,
      dnsPort: from.dns.port,
      distPort: ports.distPort,
      sidecarPort: ports.sidecarPort,
      upstreams: ports.upstreams,
      inetrc: stateDir.inetrcPath,
      hosts: stateDir.hostsPath,
      version: this.version,
      ...(this.refused ? { refused: this.refused } : {}),
    });
  }
}

import { createHash } from 'node:crypto';
import { NodeManifest } from '../../manifest/types';
import { hostMap, hostsFile } from '../beam-env';
import { BootContext, liveManifest } from '../context';
import { ManifestVersion } from '../state-dir';

/** A version's identity in state.json: its digest (of the parsed manifest), source and KV index. */
export function versionOf(m: NodeManifest, source: string, index?: number): ManifestVersion {
  const sha256 = createHash('sha256').update(JSON.stringify(m)).digest('hex');
  return { source, ...(index ? { index } : {}), sha256, appliedAt: new Date().toISOString() };
}

/**
 * What scripts and the BEAM read of the version in force: the host map (the DNS responder's
 * first, which the BEAM sees at once; then the hosts file, which inet_db re-reads within 5 s),
 * the peers file, state.json and upstreams.env. Each file is replaced whole. Synchronous: called
 * right after the EPMD routes switch, no lookup is answered between the two.
 */
export function writeLiveFiles(ctx: BootContext): void {
  const { o } = ctx;
  const m = liveManifest(ctx);
  const ports = ctx.ports!;
  ctx.dns?.setHosts(hostMap(m.node, ports.upstreams));
  o.stateDir.writeHosts(hostsFile(m.node, ports.upstreams));
  o.stateDir.writePeers(ports.upstreams.map((u) => u.node));
  o.stateDir.writeState({
    node: m.node,
    serviceId: m.service.id,
    helperPid: process.pid,
    epmdPort: ports.epmdPort,
    ...(ctx.dns ? { dnsPort: ctx.dns.port } : {}),
    distPort: ports.distPort,
    sidecarPort: ports.sidecarPort,
    upstreams: ports.upstreams,
    inetrc: o.stateDir.inetrcPath,
    hosts: o.stateDir.hostsPath,
    ...(ctx.version ? { version: ctx.version } : {}),
    ...(ctx.refused ? { refused: ctx.refused } : {}),
  });
}

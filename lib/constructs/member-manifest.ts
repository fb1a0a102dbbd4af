import { loopbackAddressesOfHosts, peerAddress } from '../manifest/loopback';
import { splitNodeName } from '../manifest/names';
import { queryTemplateName } from '../manifest/replicas';
import { LIMITS } from '../manifest/rules';
import { GroupManifest, ManifestPeerGroup, ManifestUpstream, NodeManifest } from '../manifest/types';
import { fail } from './errors';
import type { IMeshMember } from './mesh-base';
import type { BeamNode } from './node';

/** A member's peers as its manifest lists them: single nodes as upstreams, groups as peer groups. */
export interface ManifestPeers {
  readonly upstreams: ManifestUpstream[];
  readonly peerGroups: ManifestPeerGroup[];
}

/**
 * Splits `peers` (sorted by display name) into upstreams, in node-name order with a loopback
 * address per peer host, and peer groups, sorted by service. `ownNode` is a node's own name (its
 * host gets 127.0.0.1); a group has none, since a replica's host is known only at boot, so every
 * peer host is numbered from 127.0.0.2 as a node numbers the hosts that are not its own.
 */
export function manifestPeers(member: IMeshMember, peers: IMeshMember[], ownNode: string | undefined): ManifestPeers {
  const nodes = peers.filter((p) => !p.isGroup) as BeamNode[];
  const groups = peers.filter((p) => p.isGroup);
  const kind = member.isGroup ? 'group' : 'node';
  // The binding limit: the loopback range (16,777,213 peer hosts) is never reached first.
  if (nodes.length > LIMITS.upstreams) {
    fail(
      member,
      `too many peers: ${nodes.length} exceed the ${LIMITS.upstreams} upstreams of a ${kind} manifest; split the mesh or connect fewer nodes`,
    );
  }
  if (groups.length > LIMITS.upstreams) {
    const limit = `${LIMITS.upstreams} of a ${kind} manifest`;
    fail(member, `too many peer groups: ${groups.length} exceed the ${limit}; split the mesh or connect fewer groups`);
  }
  let addresses: Map<string, string>;
  try {
    addresses = ownNode !== undefined ? loopbackAddressesOfHosts(splitNodeName(ownNode).host, nodes.map((p) => p.host)) : groupAddresses(nodes);
  } catch (e) {
    fail(member, `too many peer hosts: ${(e as Error).message}; split the mesh or connect fewer nodes`);
  }
  const upstreams = nodes.map((p) => ({ node: p.nodeName, service: p.serviceName, address: addresses.get(p.host)!, port: 0 }));
  const query = queryTemplateName(member.mesh.meshName);
  const peerGroups = groups
    .map((g) => g.serviceName)
    .sort()
    .map((service) => ({ service, query }));
  return { upstreams, peerGroups };
}

/** Distinct peer hosts, sorted, numbered from 127.0.0.2 (none is a group's own host). */
function groupAddresses(nodes: BeamNode[]): Map<string, string> {
  const hosts = [...new Set(nodes.map((n) => n.host))].sort();
  return new Map(hosts.map((h, i) => [h, peerAddress(i)]));
}

/**
 * A manifest without its peers (no upstreams, no peer groups): the part the schema and rules must
 * still check at synth. The peers need no check there: {@link manifestPeers} builds them from
 * members of the same mesh, whose names passed the schema's patterns and whose clashes were refused
 * as they were added, with one loopback address per host and port 0, within the upstream limit
 * (test/constructs/member-manifest.test.ts validates whole manifests of many shapes). Checking each
 * peer again made validation the largest part of a large mesh's synth, growing with its edges.
 */
export function withoutPeers<T extends NodeManifest | GroupManifest>(manifest: T): T {
  if ('group' in manifest) return { ...manifest, upstreams: [], peerGroups: [] };
  const { peerGroups: _peers, ...own } = manifest;
  return { ...own, upstreams: [] } as unknown as T;
}

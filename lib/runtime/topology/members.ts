import { memberQueryName } from '../../manifest/replicas';
import { LIMITS } from '../../manifest/rules';
import { NodeManifest } from '../../manifest/types';
import { RoutedUpstream } from '../registration';

/** The members of each peer group as the catalog lists them now (passing instances' node names). */
export type MemberSets = ReadonlyMap<string, readonly string[]>;

/**
 * The manifest a node runs: `base` (the manifest in KV, or the boot's) plus one upstream per
 * member of each peer group, reached through the mesh's prepared-query template. Its own node and
 * nodes that are single-node peers already are left out; a node in two groups is routed once.
 * Member hosts get their loopback address from the address book (address '' here), their port
 * at apply (0). Upstreams past the manifest's limit are left out, and counted in `dropped`.
 */
export function withMembers(base: NodeManifest, members: MemberSets): { manifest: NodeManifest; dropped: number } {
  const groups = base.peerGroups ?? [];
  if (groups.length === 0) return { manifest: base, dropped: 0 };
  const taken = new Set([base.node, ...base.upstreams.map((u) => u.node)]);
  const extra: RoutedUpstream[] = [];
  for (const g of groups) {
    for (const node of members.get(g.service) ?? []) {
      if (taken.has(node)) continue;
      taken.add(node);
      extra.push({ node, service: g.service, address: '', port: 0, query: memberQueryName(g.query, g.service, node) });
    }
  }
  extra.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const room = Math.max(0, LIMITS.upstreams - base.upstreams.length);
  return { manifest: { ...base, upstreams: [...base.upstreams, ...extra.slice(0, room)] }, dropped: Math.max(0, extra.length - room) };
}

import { splitNodeName } from '../../manifest/names';
import { memberQueryName } from '../../manifest/replicas';
import { LIMITS } from '../../manifest/rules';
import { NodeManifest } from '../../manifest/types';
import { ConsulAgent } from '../consul/agent';
import { whyFailed } from '../errors';
import { Logger } from '../log';
import { RoutedUpstream } from '../registration';
import { AddressBook } from './addresses';

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

/**
 * The manifest a replica boots with: `base` and the members the catalog lists now, each member
 * host with its loopback address (the single-node peers keep theirs). Booting with them lets the
 * BEAM find its group from its first moment (the peers file, EPMD, the host map), and the proxy
 * opens every listener before the node turns passing.
 */
export function bootManifest(base: NodeManifest, members: MemberSets): NodeManifest {
  const { manifest } = withMembers(base, members);
  if (manifest === base) return base;
  const book = new AddressBook(splitNodeName(base.node).host);
  const addresses = book.assign(manifest.upstreams.map((u) => ({ host: splitNodeName(u.node).host, preferred: u.address })));
  return { ...manifest, upstreams: manifest.upstreams.map((u) => ({ ...u, address: addresses.get(splitNodeName(u.node).host)! })) };
}

/**
 * The passing members of each peer group now (one query each, no wait). A group the agent cannot
 * answer for starts empty: the watch fills it in once the agent answers.
 */
export async function readMembers(agent: Pick<ConsulAgent, 'passingMembers'>, m: NodeManifest, log: Logger): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all((m.peerGroups ?? []).map(async (g) => {
    try {
      out.set(g.service, (await agent.passingMembers(g.service, m.mesh, 0, 0)).nodes);
    } catch (e) {
      log(`members of ${g.service} not read at boot: ${whyFailed(e)}; the watch follows them`);
    }
  }));
  return out;
}

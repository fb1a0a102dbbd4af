import { isDeepStrictEqual } from 'node:util';
import { splitNodeName } from '../../manifest/names';
import { NodeManifest } from '../../manifest/types';
import { RoutedUpstream } from '../registration';
import { AddressBook } from './addresses';

/**
 * Why a new version cannot be applied to a running node (it needs a restart, or is not this
 * node's), naming the field; undefined when it can.
 */
export function refusal(live: NodeManifest, next: NodeManifest): string | undefined {
  const same: Array<[string, unknown, unknown]> = [
    ['node', live.node, next.node],
    ['service.name', live.service.name, next.service.name],
    ['service.id', live.service.id, next.service.id],
    ['service.distPort', live.service.distPort, next.service.distPort],
    ['epmdPort', live.epmdPort, next.epmdPort],
    ['sidecar.port', live.sidecar.port, next.sidecar.port],
    ['sidecar.proxy', live.sidecar.proxy, next.sidecar.proxy],
    ['mesh', live.mesh, next.mesh],
  ];
  for (const [field, was, is] of same) {
    if (was !== is) {
      return `manifest field '${field}' changed from ${JSON.stringify(was)} to ${JSON.stringify(is)}: `
        + 'a running node cannot take it (restart the node to apply)';
    }
  }
  // The built-in proxy reads its public listener's config once: a change needs a restart.
  if (!isDeepStrictEqual(live.sidecar.config ?? {}, next.sidecar.config ?? {})) {
    return "manifest field 'sidecar.config' changed: a running node cannot take it (restart the node to apply)";
  }
  return undefined;
}

/** What the upstreams of a version become, next to the ones in force. */
export interface UpstreamPlan {
  /** Every upstream of the new version: kept ones with their port in force, new ones with the manifest's (0: pick one). */
  readonly upstreams: RoutedUpstream[];
  readonly added: RoutedUpstream[];
  readonly removed: RoutedUpstream[];
}

/** An upstream is the same when everything but its address (ours to keep) is. */
function identity(u: RoutedUpstream): string {
  return JSON.stringify([u.node, u.service, u.datacenter ?? '', u.port, u.query ?? '']);
}

/**
 * Plans the upstreams of `next` against the live manifest and the resolved upstreams in force:
 * unchanged ones keep their port and address, peer hosts keep their address (the book).
 */
export function planUpstreams(liveManifest: NodeManifest, inForce: RoutedUpstream[], next: NodeManifest, book: AddressBook): UpstreamPlan {
  const resolvedOf = new Map(inForce.map((u) => [u.node, u]));
  const liveIds = new Map(liveManifest.upstreams.map((u) => [identity(u), u.node]));
  const nextIds = new Set(next.upstreams.map(identity));
  const addresses = book.assign(next.upstreams.map((u) => ({ host: splitNodeName(u.node).host, preferred: u.address })));
  const added: RoutedUpstream[] = [];
  const upstreams = next.upstreams.map((u) => {
    const address = addresses.get(splitNodeName(u.node).host)!;
    const liveNode = liveIds.get(identity(u));
    const kept = liveNode !== undefined ? resolvedOf.get(liveNode) : undefined;
    if (kept) return { ...u, address, port: kept.port };
    const fresh = { ...u, address };
    added.push(fresh);
    return fresh;
  });
  const removed = liveManifest.upstreams.filter((u) => !nextIds.has(identity(u))).map((u) => resolvedOf.get(u.node) ?? u);
  return { upstreams, added, removed };
}

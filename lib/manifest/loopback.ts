import { splitNodeName } from './names';

/** The node's own host maps here; so do local registrations (remote consoles, release rpc nodes). */
export const OWN_HOST_ADDRESS = '127.0.0.1';
/** Peer hosts get 127.0.0.2 … 127.0.0.254: 253 distinct peer hosts per node. */
export const MAX_PEER_HOSTS = 253;

/**
 * Assigns each distinct peer host its own loopback address, deterministically (sorted host
 * names), so PORT_PLEASE2 — which carries only the alive name — can be routed by the address
 * it arrives on. The node's own host gets 127.0.0.1. Throws when there are too many hosts.
 */
export function assignLoopbackAddresses(ownNode: string, peerNodes: string[]): Map<string, string> {
  const own = splitNodeName(ownNode).host;
  const hosts = [...new Set(peerNodes.map((n) => splitNodeName(n).host))].filter((h) => h !== own).sort();
  if (hosts.length > MAX_PEER_HOSTS) {
    throw new RangeError(`${hosts.length} distinct peer hosts exceed the ${MAX_PEER_HOSTS} loopback addresses 127.0.0.2-127.0.0.254`);
  }
  const byHost = new Map<string, string>([[own, OWN_HOST_ADDRESS]]);
  hosts.forEach((h, i) => byHost.set(h, `127.0.0.${i + 2}`));
  return byHost;
}

import { splitNodeName } from './names';

/** The node's own host maps here; so do local registrations (remote consoles, release rpc nodes). */
export const OWN_HOST_ADDRESS = '127.0.0.1';

/** 127.0.0.0 as a 32-bit number: peer address i is this plus i + 2 (127.0.0.2 is the first). */
const LOOPBACK_BASE = 127 * 2 ** 24;
const FIRST_PEER_OFFSET = 2;

/**
 * Peer hosts get 127.0.0.2 … 127.255.255.254, consecutive as 32-bit numbers: all of 127.0.0.0/8
 * (Linux routes it all to `lo`) but the network address 127.0.0.0, the own host's 127.0.0.1 and
 * the broadcast address 127.255.255.255 (a listener binds there, but a connect gets ENETUNREACH).
 * Addresses ending in .0 or .255 inside the range (127.0.1.0, 127.0.1.255) are ordinary hosts of
 * a /8 and are used: a TCP listener and an Erlang node reached through inetrc work on them
 * (checked on Linux 6.18, OTP 25), and skipping them would break the plain numbering
 * (peer host 1,000 is 127.0.3.233). 2^24 - 3 = 16,777,213 peer hosts per node.
 */
export const MAX_PEER_HOSTS = 2 ** 24 - 3;

/** The address of the peer host in position `index` (0-based): 127.0.0.2 for 0, 127.0.3.233 for 999. */
export function peerAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_PEER_HOSTS) {
    throw new RangeError(`peer host ${index} is outside the ${MAX_PEER_HOSTS} loopback addresses 127.0.0.2-127.255.255.254`);
  }
  const n = LOOPBACK_BASE + FIRST_PEER_OFFSET + index;
  return `127.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Assigns each distinct peer host its own loopback address, deterministically (sorted host
 * names), so PORT_PLEASE2 — which carries only the alive name — can be routed by the address
 * it arrives on. The node's own host gets 127.0.0.1. Throws when there are too many hosts.
 */
export function assignLoopbackAddresses(ownNode: string, peerNodes: string[]): Map<string, string> {
  return loopbackAddressesOfHosts(splitNodeName(ownNode).host, peerNodes.map((n) => splitNodeName(n).host));
}

/** {@link assignLoopbackAddresses} from host names: the node's own host and its peers' hosts. */
export function loopbackAddressesOfHosts(own: string, peerHosts: string[]): Map<string, string> {
  const hosts = [...new Set(peerHosts)].filter((h) => h !== own).sort();
  if (hosts.length > MAX_PEER_HOSTS) {
    throw new RangeError(`${hosts.length} distinct peer hosts exceed the ${MAX_PEER_HOSTS} loopback addresses 127.0.0.2-127.255.255.254`);
  }
  const byHost = new Map<string, string>([[own, OWN_HOST_ADDRESS]]);
  hosts.forEach((h, i) => byHost.set(h, peerAddress(i)));
  return byHost;
}

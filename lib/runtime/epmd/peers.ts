import { splitNodeName } from '../../manifest/names';
import { ManifestUpstream } from '../../manifest/types';
import { PeerRoute } from './server';

/** EPMD routes of the upstreams: (address asked on, alive name) -> upstream listener port. */
export function epmdPeers(upstreams: ManifestUpstream[]): PeerRoute[] {
  return upstreams.map((u) => ({ address: u.address, alive: splitNodeName(u.node).alive, port: u.port }));
}

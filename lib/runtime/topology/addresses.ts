import { MAX_PEER_HOSTS, OWN_HOST_ADDRESS, peerAddress } from '../../manifest/loopback';

/**
 * The loopback address of every peer host this helper has routed, kept for its lifetime: once
 * given to a host, an address stays with it across versions, so a deploy that adds or removes a
 * host never moves another one (a running BEAM has open connections and cached lookups on it).
 * A removed host keeps its address reserved (it gets it back if it returns), so no other host
 * inherits a name a BEAM may still resolve; reserved addresses are reused only when no fresh one
 * is left. New hosts take the lowest never-given address of 127.0.0.2 … 127.255.255.254 (the
 * synth's numbering); `capacity` bounds that range (tests shrink it).
 */
export class AddressBook {
  private readonly byHost = new Map<string, string>();
  /** The reverse of byHost: the host each address is given or reserved to. */
  private readonly holderOf = new Map<string, string>();
  /** Index (as in peerAddress) below which every address is given or reserved. */
  private nextFresh = 0;

  constructor(
    private readonly ownHost: string,
    private readonly capacity: number = MAX_PEER_HOSTS,
  ) {}

  /**
   * The address of each host, in force now (the first call takes the manifest's own choices; a
   * group member's host has none: preferred '').
   */
  public assign(hosts: Array<{ host: string; preferred: string }>): Map<string, string> {
    const wanted = new Set(hosts.map((h) => h.host));
    const out = new Map<string, string>();
    const inUse = new Set<string>();
    for (const { host } of hosts) {
      const kept = host === this.ownHost ? OWN_HOST_ADDRESS : this.byHost.get(host);
      if (kept) {
        out.set(host, kept);
        inUse.add(kept);
      }
    }
    for (const { host, preferred } of hosts) {
      if (out.has(host)) continue;
      const address = this.isFresh(preferred, inUse) ? preferred : this.freeAddress(inUse, wanted);
      this.give(address, host);
      out.set(host, address);
      inUse.add(address);
    }
    return out;
  }

  private isFresh(address: string, inUse: Set<string>): boolean {
    return address !== '' && address !== OWN_HOST_ADDRESS && !inUse.has(address) && !this.holderOf.has(address);
  }

  /** A never-given address first (the lowest); else the lowest one reserved by a host that is gone now. */
  private freeAddress(inUse: Set<string>, wanted: Set<string>): string {
    // Addresses are never taken back, only passed on: everything below the cursor stays given.
    while (this.nextFresh < this.capacity && this.holderOf.has(peerAddress(this.nextFresh))) this.nextFresh++;
    if (this.nextFresh < this.capacity) return peerAddress(this.nextFresh);
    for (let i = 0; i < this.capacity; i++) {
      const a = peerAddress(i);
      if (!inUse.has(a) && !wanted.has(this.holderOf.get(a)!)) return a;
    }
    throw new RangeError(`more than ${this.capacity} distinct peer hosts: no loopback address left`);
  }

  /** Gives `address` to `host`, taking it from the gone host that held it. */
  private give(address: string, host: string): void {
    const previous = this.holderOf.get(address);
    if (previous !== undefined) this.byHost.delete(previous);
    this.byHost.set(host, address);
    this.holderOf.set(address, host);
  }
}

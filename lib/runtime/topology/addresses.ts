import { MAX_PEER_HOSTS, OWN_HOST_ADDRESS } from '../../manifest/loopback';

const FIRST_PEER = 2;

/**
 * The loopback address of every peer host this helper has routed, kept for its lifetime: once
 * given to a host, an address stays with it across versions, so a deploy that adds or removes a
 * host never moves another one (a running BEAM has open connections and cached lookups on it).
 * A removed host keeps its address reserved (it gets it back if it returns), so no other host
 * inherits a name a BEAM may still resolve; reserved addresses are reused only when no fresh one
 * is left.
 */
export class AddressBook {
  private readonly byHost = new Map<string, string>();

  constructor(private readonly ownHost: string) {}

  /** The address of each host, in force now (the first call takes the manifest's own choices). */
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
      this.forgetHolder(address);
      this.byHost.set(host, address);
      out.set(host, address);
      inUse.add(address);
    }
    return out;
  }

  private isFresh(address: string, inUse: Set<string>): boolean {
    return address !== OWN_HOST_ADDRESS && !inUse.has(address) && ![...this.byHost.values()].includes(address);
  }

  /** A never-given address first; else one reserved by a host that is gone now. */
  private freeAddress(inUse: Set<string>, wanted: Set<string>): string {
    const reservedBy = new Map([...this.byHost].map(([h, a]) => [a, h]));
    let reclaimable: string | undefined;
    for (let i = FIRST_PEER; i < FIRST_PEER + MAX_PEER_HOSTS; i++) {
      const a = `127.0.0.${i}`;
      if (inUse.has(a)) continue;
      const holder = reservedBy.get(a);
      if (holder === undefined) return a;
      if (!wanted.has(holder)) reclaimable ??= a;
    }
    if (reclaimable) return reclaimable;
    throw new RangeError(`more than ${MAX_PEER_HOSTS} distinct peer hosts: no loopback address left`);
  }

  private forgetHolder(address: string): void {
    for (const [h, a] of this.byHost) if (a === address) this.byHost.delete(h);
  }
}

// Hosts on one machine as Linux network namespaces (iproute2), wired to a bridge that lives in a
// namespace of its own: nothing of a cluster exists in the root namespace, and its subnet exists
// only inside the namespaces made here. Names carry the creating process's pid (`mx-<pid>-…`), so
// a later run can tell a crashed run's leftovers from a live run's namespaces.
import { execFileSync } from 'node:child_process';
import { isAlive } from '../mesh-node';

export const NS_PREFIX = 'mx-';

/** Runs `ip` with arguments; throws with its stderr on failure. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; code?: string; message: string };
    if (err.code === 'ENOENT') throw new Error('ip (iproute2) not found: run scripts/setup.sh (it installs iproute2)');
    throw new Error(`ip ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

/** Namespace names as `ip netns list` prints them (first word of each line). */
export function listNamespaces(): string[] {
  return ip('netns', 'list').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

/** Deletes namespaces of runs whose process is gone (a crashed run's leftovers); returns them. */
export function removeStaleNamespaces(): string[] {
  const stale = listNamespaces().filter((n) => {
    const m = /^mx-(\d+)-/.exec(n);
    return m && !isAlive(Number(m[1]));
  });
  for (const n of stale) ip('netns', 'delete', n);
  return stale;
}

/** Argument prefix that runs a command inside a namespace (`ip netns exec` execs: same pid). */
export function inNs(ns: string): string[] {
  return ['ip', 'netns', 'exec', ns];
}

export interface HostLink {
  /** The host's namespace. */
  readonly ns: string;
  /** Its address on the cluster subnet. */
  readonly address: string;
  /** Its veth end inside the bridge namespace (cut and restored for partitions). */
  readonly bridgePort: string;
}

/**
 * One bridge namespace and N host namespaces on `<subnet>.0/24` (addresses .10, .11, …). Every
 * link is made inside the namespaces (`ip -n`), never in the root namespace.
 */
export class NetnsTopology {
  public readonly bridgeNs: string;
  public readonly hosts: HostLink[] = [];
  private readonly made: string[] = [];

  constructor(public readonly runId: string, public readonly subnet = '10.213.0') {
    this.bridgeNs = `${NS_PREFIX}${runId}-br`;
  }

  /** Creates the bridge namespace and `names.length` hosts; undoes what it made if a step fails. */
  public create(names: string[]): HostLink[] {
    try {
      this.addNs(this.bridgeNs);
      ip('-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', this.bridgeNs, 'link', 'set', 'br0', 'up');
      names.forEach((name, i) => this.addHost(name, i));
    } catch (e) {
      this.destroy();
      throw e;
    }
    return this.hosts;
  }

  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    this.made.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  private addHost(name: string, i: number): void {
    const ns = `${NS_PREFIX}${this.runId}-${name}`;
    const port = `p${i}`;
    const address = `${this.subnet}.${10 + i}`;
    this.addNs(ns);
    // Both ends are born in the bridge namespace's view: one stays there, the other goes to the host.
    ip('-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0');
    ip('-n', this.bridgeNs, 'link', 'set', port, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    this.hosts.push({ ns, address, bridgePort: port });
  }

  /** Cuts (down) or restores (up) a host's link at the bridge: a partition of that host. */
  public setLink(host: HostLink, up: boolean): void {
    ip('-n', this.bridgeNs, 'link', 'set', host.bridgePort, up ? 'up' : 'down');
  }

  /** Deletes every namespace made (their links go with them); idempotent. */
  public destroy(): void {
    const errors: string[] = [];
    for (const ns of this.made.splice(0).reverse()) {
      try {
        ip('netns', 'delete', ns);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new Error(`could not remove every namespace: ${errors.join('; ')}`);
  }
}

import { splitNodeName } from '../../manifest/names';
import { resolveReplica } from '../../manifest/replicas';
import { isGroupManifest, ManifestPeerGroup, NodeManifest } from '../../manifest/types';
import { parseAnyManifest, validateManifest } from '../../manifest/validate';
import { RunOptions } from '../run-options';
import { AddressBook } from './addresses';
import { applyVersion, LiveNode } from './apply';
import { VersionOutcome } from './kv-watch';
import { MembersOutcome } from './member-watch';
import { withMembers } from './members';
import { versionOf } from './outputs';
import { planUpstreams, refusal, UpstreamPlan } from './versions';

/** What the follower tells its owner: the peer groups in force changed (start or stop their watches). */
export interface FollowerHooks {
  peerGroupsChanged?(groups: ManifestPeerGroup[]): void;
}

const names = (us: Array<{ node: string }>) => us.map((u) => u.node).join(', ') || 'none';
const groupsKey = (m: NodeManifest) => JSON.stringify(m.peerGroups ?? []);

/**
 * A running node's follower of its topology: new manifest versions (validated, refused or
 * applied) and the members of its peer groups. The node runs the manifest plus one upstream per
 * member (withMembers); both sources go through one queue, so one change is applied at a time.
 */
export class TopologyFollower {
  private readonly book: AddressBook;
  /** The manifest in force without its members: the boot's, then each version applied. */
  private base: NodeManifest;
  private readonly members = new Map<string, string[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly wanted = new Map<string, string[]>();
  private membersRun?: Promise<MembersOutcome>;

  /**
   * `boot`: the manifest as read and the members the node booted with (when it booted with
   * members); else the registration's manifest is the base.
   */
  constructor(
    private readonly node: LiveNode,
    private readonly source: string,
    private readonly hooks: FollowerHooks = {},
    boot?: RunOptions['base'],
  ) {
    const { registration } = node;
    this.base = boot?.manifest ?? registration.manifest;
    for (const [service, nodes] of boot?.members ?? []) this.members.set(service, [...nodes]);
    this.book = new AddressBook(splitNodeName(registration.manifest.node).host);
    // The boot's addresses are the first ones given: they stay with their hosts.
    this.book.assign(registration.ports.upstreams.map((u) => ({ host: splitNodeName(u.node).host, preferred: u.address })));
  }

  /** The peer groups of the manifest in force. */
  public get peerGroups(): ManifestPeerGroup[] {
    return this.base.peerGroups ?? [];
  }

  /** One version as read from the source (undefined: the key is gone). */
  public onVersion(text: string | undefined, index: number): Promise<VersionOutcome> {
    return this.serial(async () => {
      const outcome = await this.version(text, index);
      if (outcome !== 'unchanged') this.node.o.metrics?.manifestVersion(outcome);
      return outcome;
    });
  }

  /**
   * The passing members of one peer group, as the catalog lists them now. Sets that arrive while
   * an apply runs are applied together by the next one (a group forming at once would otherwise
   * cost one sidecar registration per replica on every peer); their callers share its outcome.
   */
  public onMembers(service: string, nodes: string[]): Promise<MembersOutcome> {
    this.wanted.set(service, nodes);
    this.membersRun ??= this.serial(() => {
      this.membersRun = undefined;
      return this.membersOf();
    });
    return this.membersRun;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A version of a group's key is this replica's manifest of it. */
  private read(text: string | undefined): NodeManifest {
    if (text === undefined) throw new Error(`${this.source}: the key was deleted`);
    const m = parseAnyManifest(text, this.source);
    if (!isGroupManifest(m)) return m;
    // Named as the group says: a version that renames the group's alive is refused (node changed).
    const node = `${m.group.alive}@${splitNodeName(this.base.node).host}`;
    return validateManifest(resolveReplica(m, node), this.source);
  }

  private async version(text: string | undefined, index: number): Promise<VersionOutcome> {
    const { files } = this.node;
    let next: NodeManifest;
    try {
      next = this.read(text);
    } catch (e) {
      return this.refuse(index, (e as Error).message);
    }
    if (JSON.stringify(next) === JSON.stringify(this.base)) {
      // The version the node runs (the boot read it without its index): record the index.
      if (index && !files.version.index) {
        files.version = { ...files.version, index };
        files.write();
      }
      return 'unchanged';
    }
    const why = refusal(this.base, next);
    if (why) return this.refuse(index, `${this.source}: ${why}`, next);
    const groupsChanged = groupsKey(next) !== groupsKey(this.base);
    let plan: UpstreamPlan;
    try {
      plan = await this.apply(next);
    } catch (e) {
      this.node.o.log(`manifest version ${index} not applied: ${(e as Error).message}; still on ${this.liveName()}, trying again`);
      return 'failed';
    }
    files.version = versionOf(next, this.source, index);
    files.refused = undefined;
    files.write();
    const what = `added ${names(plan.added)}; removed ${names(plan.removed)}; ${plan.upstreams.length} upstreams`;
    this.node.o.log(`manifest version ${index} applied: ${what}`);
    if (groupsChanged) this.hooks.peerGroupsChanged?.(this.peerGroups);
    return 'applied';
  }

  /** The member sets handed over since the last apply began, all taken by the next one. */
  private async membersOf(): Promise<MembersOutcome> {
    const changes = [...this.wanted].filter(([service]) => this.peerGroups.some((g) => g.service === service));
    this.wanted.clear();
    // Groups the version in force no longer lists: their watches are being stopped.
    if (changes.length === 0) return 'applied';
    const before = new Map(changes.map(([service]) => [service, this.members.get(service)]));
    for (const [service, nodes] of changes) this.members.set(service, nodes);
    const services = changes.map(([service]) => service).join(', ');
    let plan: UpstreamPlan;
    try {
      plan = await this.apply(this.base);
    } catch (e) {
      for (const [service, nodes] of before) {
        if (nodes) this.members.set(service, nodes);
        else this.members.delete(service);
      }
      this.node.o.log(`members of ${services} not applied: ${(e as Error).message}; trying again`);
      return 'failed';
    }
    if (plan.added.length || plan.removed.length) {
      this.node.o.log(`members of ${services}: added ${names(plan.added)}; removed ${names(plan.removed)}; ${plan.upstreams.length} upstreams`);
    }
    return 'applied';
  }

  /** Puts `base` and the members in force; a plan with nothing to change touches nothing. */
  private async apply(base: NodeManifest): Promise<UpstreamPlan> {
    const { registration, o } = this.node;
    const { manifest, dropped } = withMembers(base, this.members);
    if (dropped) o.log(`${dropped} group members left out: more than the manifest's limit of upstreams`);
    const plan = planUpstreams(registration.manifest, registration.ports.upstreams, manifest, this.book);
    const same = plan.added.length === 0 && plan.removed.length === 0 && base === this.base;
    if (!same) await applyVersion(this.node, manifest, plan);
    this.base = base;
    // Only once applied: a failed version keeps the groups it drops (withMembers ignores them meanwhile).
    for (const g of [...this.members.keys()]) if (!base.peerGroups?.some((p) => p.service === g)) this.members.delete(g);
    return plan;
  }

  private refuse(index: number, reason: string, m?: NodeManifest): VersionOutcome {
    const { files } = this.node;
    files.refused = { ...(index ? { index } : {}), ...(m ? { sha256: versionOf(m, this.source).sha256 } : {}), reason, at: new Date().toISOString() };
    // Files first: whoever reads the log line finds state.json saying the same.
    files.write();
    this.node.o.log(`manifest version ${index} refused: ${reason}; still on ${this.liveName()}`);
    return 'refused';
  }

  private liveName(): string {
    const v = this.node.files.version;
    return v.index ? `version ${v.index}` : `the boot's version (sha256 ${v.sha256.slice(0, 12)})`;
  }
}

import { splitNodeName } from '../../manifest/names';
import { NodeManifest } from '../../manifest/types';
import { parseManifest } from '../../manifest/validate';
import { AddressBook } from './addresses';
import { applyVersion, LiveNode } from './apply';
import { VersionOutcome } from './kv-watch';
import { versionOf } from './outputs';
import { planUpstreams, refusal } from './versions';

/** A running node's follower of new manifest versions: validates, refuses or applies each. */
export class TopologyFollower {
  private readonly book: AddressBook;

  constructor(private readonly node: LiveNode, private readonly source: string) {
    const { registration } = node;
    this.book = new AddressBook(splitNodeName(registration.manifest.node).host);
    // The boot's addresses are the first ones given: they stay with their hosts.
    this.book.assign(registration.ports.upstreams.map((u) => ({ host: splitNodeName(u.node).host, preferred: u.address })));
  }

  /** One version as read from the source (undefined: the key is gone). */
  public async onVersion(text: string | undefined, index: number): Promise<VersionOutcome> {
    const { node } = this;
    const { files, registration } = node;
    let next: NodeManifest;
    try {
      if (text === undefined) throw new Error(`${this.source}: the key was deleted`);
      next = parseManifest(text, this.source);
    } catch (e) {
      return this.refuse(index, (e as Error).message);
    }
    const live = registration.manifest;
    if (JSON.stringify(next) === JSON.stringify(live)) {
      // The version the node runs (the boot read it without its index): record the index.
      if (index && !files.version.index) {
        files.version = { ...files.version, index };
        files.write();
      }
      return 'unchanged';
    }
    const why = refusal(live, next);
    if (why) return this.refuse(index, `${this.source}: ${why}`, next);
    const plan = planUpstreams(live, registration.ports.upstreams, next, this.book);
    try {
      await applyVersion(node, next, plan);
    } catch (e) {
      node.o.log(`manifest version ${index} not applied: ${(e as Error).message}; still on ${this.liveName()}, trying again`);
      return 'failed';
    }
    files.version = versionOf(next, this.source, index);
    files.refused = undefined;
    files.write();
    const names = (us: Array<{ node: string }>) => us.map((u) => u.node).join(', ') || 'none';
    node.o.log(`manifest version ${index} applied: added ${names(plan.added)}; removed ${names(plan.removed)}; ${plan.upstreams.length} upstreams`);
    return 'applied';
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

import { ManifestPeerGroup } from '../../manifest/types';
import { EpmdServer } from '../epmd/server';
import { RunOptions } from '../run-options';
import { LiveNode } from '../topology/apply';
import { TopologyFollower } from '../topology/follow';
import { KvWatch } from '../topology/kv-watch';
import { MemberWatch } from '../topology/member-watch';
import { LiveFiles } from '../topology/outputs';
import { BootStep, Picked, Registered, Serving } from './boot-step';

/** What the watch step reads of the steps before it. */
export interface WatchInputs {
  readonly ports: Picked;
  readonly register: Registered;
  readonly epmd: Serving<Pick<EpmdServer, 'addAddress' | 'setPeers'>>;
  readonly proxy: Serving<LiveNode['proxy']>;
  readonly beam: { readonly liveFiles: LiveFiles };
}

/**
 * After the BEAM is spawned: with --kv, follows the manifest key and applies each valid new
 * version while the BEAM runs; for each peer group of the version in force, follows its passing
 * members and routes each one (topology/). Stopped first, so nothing is applied while the node
 * goes down.
 */
export class WatchStep implements BootStep {
  public readonly name = 'watch';
  private kv?: KvWatch;
  private readonly members = new Map<string, MemberWatch>();
  private follower?: TopologyFollower;
  private stopping = false;

  constructor(
    private readonly o: Pick<RunOptions, 'agent' | 'log' | 'proxyKind' | 'readyTimeoutMs' | 'manifest' | 'manifestSource' | 'base' | 'metrics'>,
    private readonly key: string | undefined,
    private readonly from: WatchInputs,
  ) {}

  public async start(): Promise<void> {
    const { o, key, from } = this;
    const node: LiveNode = {
      o,
      registration: from.register.registration,
      epmd: from.epmd.server,
      proxy: from.proxy.server,
      adminBind: from.ports.picks.adminBind,
      files: from.beam.liveFiles,
    };
    const hooks = { peerGroupsChanged: (groups: ManifestPeerGroup[]) => this.syncMembers(groups) };
    const follower = new TopologyFollower(node, key ? `kv:${key}` : o.manifestSource ?? 'manifest', hooks, o.base);
    this.follower = follower;
    this.syncMembers(follower.peerGroups);
    if (!key) return;
    this.kv = new KvWatch({ agent: o.agent, key, log: o.log, onVersion: (text, index) => follower.onVersion(text, index) });
    this.kv.start();
    o.log(`watching kv:${key} for new manifest versions`);
  }

  public preStop(): void {
    this.stopping = true;
    void this.kv?.stop();
    for (const w of this.members.values()) void w.stop();
  }

  public async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.kv?.stop(), ...[...this.members.values()].map((w) => w.stop())]);
  }

  /** One member watch per peer group in force: new groups start theirs, dropped ones stop. */
  private syncMembers(groups: ManifestPeerGroup[]): void {
    if (this.stopping) return;
    const { o } = this;
    const wanted = new Set(groups.map((g) => g.service));
    for (const [service, w] of this.members) {
      if (wanted.has(service)) continue;
      this.members.delete(service);
      void w.stop();
    }
    for (const service of wanted) {
      if (this.members.has(service)) continue;
      const follower = this.follower!;
      const onMembers = (s: string, nodes: string[]) => follower.onMembers(s, nodes);
      const w = new MemberWatch({ agent: o.agent, service, mesh: o.manifest.mesh, log: o.log, onMembers });
      this.members.set(service, w);
      w.start();
      o.log(`following the passing members of group ${service}`);
    }
  }
}

import { EpmdServer } from '../epmd/server';
import { RunOptions } from '../run-options';
import { LiveNode } from '../topology/apply';
import { TopologyFollower } from '../topology/follow';
import { KvWatch } from '../topology/kv-watch';
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
 * With --kv, after the BEAM is spawned: follows the manifest key with blocking queries and
 * applies each valid new version while the BEAM runs (topology/). Stopped first, so no version
 * is applied while the node goes down.
 */
export class WatchStep implements BootStep {
  public readonly name = 'watch';
  private watch?: KvWatch;

  constructor(
    private readonly o: Pick<RunOptions, 'agent' | 'log' | 'proxyKind' | 'readyTimeoutMs'>,
    private readonly key: string,
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
    const follower = new TopologyFollower(node, `kv:${key}`);
    this.watch = new KvWatch({ agent: o.agent, key, log: o.log, onVersion: (text, index) => follower.onVersion(text, index) });
    this.watch.start();
    o.log(`watching kv:${key} for new manifest versions`);
  }

  public preStop(): void {
    void this.watch?.stop();
  }

  public async stop(): Promise<void> {
    await this.watch?.stop();
  }
}

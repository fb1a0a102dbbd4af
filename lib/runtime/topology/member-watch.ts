import { isNodeName } from '../../manifest/names';
import { ConsulAgent } from '../consul/agent';
import { BlockingLoop } from '../consul/blocking-loop';
import { backoffMs, nextIndex } from '../consul/index-rules';
import { whyFailed } from '../errors';
import { Logger } from '../log';

/** What the handler made of one member set: a failed apply is tried again after a backoff. */
export type MembersOutcome = 'applied' | 'failed';

export interface MemberWatchOptions {
  readonly agent: Pick<ConsulAgent, 'passingMembers'>;
  readonly service: string;
  readonly mesh: string;
  /** Called with each member set (sorted node names) that differs from the last one applied. */
  readonly onMembers: (service: string, nodes: string[]) => Promise<MembersOutcome>;
  readonly log: Logger;
  /** Longest wait of one blocking query, seconds. @default 300 */
  readonly waitS?: number;
  /** First backoff after an error, ms. @default 1000 */
  readonly backoffBaseMs?: number;
}

/**
 * Follows the passing instances of one peer group with blocking queries until stopped. A wake-up
 * counts only when the member set changed: Consul 1.8 wakes a query on a service with no
 * instances for unrelated deregistrations, and a TTL refresh with the same status wakes nothing.
 */
export class MemberWatch extends BlockingLoop {
  private applied?: string;

  constructor(private readonly o: MemberWatchOptions) {
    super();
  }

  protected async run(): Promise<void> {
    let index = 0;
    let failures = 0;
    while (!this.stopped) {
      let nodes: string[];
      try {
        const answer = await this.o.agent.passingMembers(this.o.service, this.o.mesh, index, this.o.waitS ?? 300, this.aborter.signal);
        index = nextIndex(index, answer.index);
        nodes = answer.nodes.filter(isNodeName);
      } catch (e) {
        if (this.stopped) return;
        failures++;
        const wait = backoffMs(failures, this.o.backoffBaseMs);
        this.o.log(`members of ${this.o.service}: ${whyFailed(e)}; retrying in ${Math.round(wait / 1000)} s`);
        await this.sleep(wait);
        continue;
      }
      if (this.stopped) return;
      const key = nodes.join(' ');
      if (key === this.applied) {
        failures = 0;
        continue;
      }
      const outcome = await this.o.onMembers(this.o.service, nodes).catch((e) => {
        this.o.log(`members of ${this.o.service}: ${whyFailed(e)}`);
        return 'failed' as const;
      });
      if (this.stopped) return;
      if (outcome === 'failed') {
        failures++;
        index = 0;
        await this.sleep(backoffMs(failures, this.o.backoffBaseMs));
        continue;
      }
      failures = 0;
      this.applied = key;
    }
  }
}

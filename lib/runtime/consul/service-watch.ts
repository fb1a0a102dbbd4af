import { BlockingLoop } from './blocking-loop';
import { ConsulAgent } from './agent';
import { whyFailed } from '../errors';
import { Logger } from '../log';
import { backoffMs } from './index-rules';

export interface ServiceWatchOptions {
  readonly agent: Pick<ConsulAgent, 'serviceWatch'>;
  /** The service to follow on the local agent. */
  readonly serviceId: string;
  /** Longest wait of one blocking query, seconds (Consul caps it at 600). */
  readonly waitS: number;
  /**
   * The agent answered and knows the service (at once, on a change, or when the wait ended);
   * `resumed` when it is the first answer after the agent did not answer (it may have restarted).
   */
  readonly onPresent: (resumed: boolean) => Promise<void>;
  /** The agent answered and does not know the service: register it again. */
  readonly onMissing: () => Promise<void>;
  readonly log: Logger;
  /** First backoff after an error, ms. @default 500 */
  readonly backoffBaseMs?: number;
  /** Longest backoff, ms: how late an agent that is back is noticed. @default 5000 */
  readonly backoffMaxMs?: number;
}

/**
 * Follows the agent's own registration of the node with hash-based blocking queries, so an idle
 * helper wakes once per wait instead of polling: an agent that went away breaks the query at
 * once, and the first answer after it is back says whether it still knows the service.
 */
export class ServiceWatch extends BlockingLoop {
  constructor(private readonly o: ServiceWatchOptions) {
    super();
  }

  protected async run(): Promise<void> {
    let hash = '';
    let failures = 0;
    while (!this.stopped) {
      let answer: { present: boolean; hash: string };
      try {
        answer = await this.o.agent.serviceWatch(this.o.serviceId, hash, this.o.waitS, this.aborter.signal);
      } catch (e) {
        if (this.stopped) return;
        failures++;
        const maxMs = this.o.backoffMaxMs ?? 5000;
        // Once per outage, then every tenth try: an agent down for minutes does not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          this.o.log(`agent watch of ${this.o.serviceId}: ${whyFailed(e)}; trying again, at most ${maxMs / 1000} s apart`);
        }
        const wait = backoffMs(failures, this.o.backoffBaseMs ?? 500, maxMs);
        await this.sleep(wait);
        hash = '';
        continue;
      }
      if (this.stopped) return;
      const resumed = failures > 0;
      if (resumed) this.o.log(`agent watch of ${this.o.serviceId}: the agent answers again`);
      failures = 0;
      hash = answer.hash;
      // The handlers log their own failures; the next answer tries again.
      const handled = answer.present ? this.o.onPresent(resumed) : this.o.onMissing();
      await handled.catch((e) => this.o.log(`agent watch of ${this.o.serviceId}: ${whyFailed(e)}`));
      // Re-registered: ask again soon without a hash. An agent that sends no hash cannot block:
      // then this is a poll once per wait.
      if (!answer.present) await this.sleep(this.o.backoffBaseMs ?? 500);
      else if (!hash) await this.sleep(this.o.waitS * 1000);
    }
  }
}

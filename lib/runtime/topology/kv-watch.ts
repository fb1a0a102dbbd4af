import { BlockingLoop } from '../consul/blocking-loop';
import { ConsulAgent } from '../consul/agent';
import { whyFailed } from '../errors';
import { Logger } from '../log';
import { backoffMs, nextIndex } from '../consul/index-rules';

/** What the handler made of one version: a failed apply is tried again after a backoff. */
export type VersionOutcome = 'applied' | 'refused' | 'unchanged' | 'failed';

export interface KvWatchOptions {
  readonly agent: Pick<ConsulAgent, 'kvWatch'>;
  readonly key: string;
  /** Called with each value that differs from the last one handled (undefined: key deleted). */
  readonly onVersion: (value: string | undefined, index: number) => Promise<VersionOutcome>;
  readonly log: Logger;
  /** Longest wait of one blocking query, seconds. @default 300 */
  readonly waitS?: number;
  /** First backoff after an error, ms. @default 1000 */
  readonly backoffBaseMs?: number;
}

/**
 * Follows one KV key with blocking queries until stopped. The first query (index 0) answers at
 * once with the current value: what changed between the boot's read and the watch is not lost.
 */
export class KvWatch extends BlockingLoop {
  constructor(private readonly o: KvWatchOptions) {
    super();
  }

  protected async run(): Promise<void> {
    let index = 0;
    let failures = 0;
    let handled: string | undefined | null = null; // null: nothing handled yet
    while (!this.stopped) {
      let answer: { index: number; value?: string };
      try {
        answer = await this.o.agent.kvWatch(this.o.key, index, this.o.waitS ?? 300, this.aborter.signal);
      } catch (e) {
        if (this.stopped) return;
        failures++;
        const wait = backoffMs(failures, this.o.backoffBaseMs);
        this.o.log(`manifest watch: ${whyFailed(e)}; retrying in ${Math.round(wait / 1000)} s`);
        await this.sleep(wait);
        continue;
      }
      if (this.stopped) return;
      index = nextIndex(index, answer.index);
      if (answer.value === handled) {
        failures = 0;
        continue;
      }
      const outcome = await this.o.onVersion(answer.value, answer.index).catch((e) => {
        // A fault of ours (a state file that cannot be written): logged, tried again, never fatal.
        this.o.log(`manifest version ${answer.index}: ${whyFailed(e)}`);
        return 'failed' as const;
      });
      if (outcome === 'failed') {
        // Same value again next time: the query after a backoff returns at once (index 0).
        failures++;
        index = 0;
        await this.sleep(backoffMs(failures, this.o.backoffBaseMs));
        continue;
      }
      failures = 0;
      handled = answer.value;
    }
  }
}

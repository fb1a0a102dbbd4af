/**
 * A loop of blocking queries on the agent that a stop ends at once: the query in flight is
 * aborted and a backoff cut short (the KV manifest watch, the watch of the node's registration).
 */
export abstract class BlockingLoop {
  protected stopped = false;
  protected readonly aborter = new AbortController();
  private wake?: () => void;
  private loop?: Promise<void>;

  public start(): void {
    this.loop = this.run();
  }

  /** Ends the loop; a query in flight is aborted. */
  public async stop(): Promise<void> {
    this.stopped = true;
    this.aborter.abort();
    this.wake?.();
    await this.loop;
  }

  protected abstract run(): Promise<void>;

  protected sleep(ms: number): Promise<void> {
    // Stopped while a handler ran: no backoff to wait out.
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

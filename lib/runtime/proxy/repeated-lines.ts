/**
 * Consul's built-in proxy (`consul connect proxy`) starts a listener for every upstream on each
 * configuration change, its running ones included (upstream TODO in its Serve loop): per peer and
 * per change it logs `Starting listener: listener=A:P->…` and then `listener stopped with error:
 * listener=A:P->… address already in use`. With a thousand peers that is 2,000 lines on every
 * change. This keeps the first start of each listener, and every line about a listener that never
 * ran (its first start failed: a port held by another process must stay visible), and drops the
 * repeats of a running listener. One per proxy process: a new process starts from nothing.
 */
export class RepeatedListenerLines {
  private readonly starts = new Map<string, number>();
  private readonly inUse = new Map<string, number>();
  private dropped = 0;

  /** Lines left out so far. */
  public get droppedCount(): number {
    return this.dropped;
  }

  /** Whether to keep `line`. */
  public keep(line: string): boolean {
    const listener = LISTENER.exec(line)?.[1];
    if (listener === undefined) return true;
    const starts = this.starts.get(listener) ?? 0;
    const inUse = this.inUse.get(listener) ?? 0;
    // Running: some start of it did not fail (every later start fails with "in use").
    const running = starts > 0 && inUse < starts - (STARTING.test(line) ? 0 : 1);
    if (STARTING.test(line)) {
      this.starts.set(listener, starts + 1);
      return this.keptUnless(running);
    }
    if (IN_USE.test(line)) {
      this.inUse.set(listener, inUse + 1);
      return this.keptUnless(running);
    }
    return true;
  }

  private keptUnless(repeat: boolean): boolean {
    if (repeat) this.dropped++;
    return !repeat;
  }
}

const LISTENER = /\blistener="?([^\s"]+->[^\s"]+)/;
const STARTING = /\bStarting listener: listener=/;
const IN_USE = /listener stopped with error: .*address already in use/;

import { InputError, RuntimeFailure } from './errors';
import { Logger } from './log';
import { BootStep } from './steps/boot-step';

/** Raised when a stop was asked for while the boot was still running. */
export class BootAborted extends Error {
  constructor(public readonly reason: string) {
    super(`boot aborted: ${reason}`);
    this.name = 'BootAborted';
  }
}

/**
 * Starts boot steps in order and times each; on a failure, an abort or a stop it undoes the
 * started ones in reverse (preStop on all first, then stop), naming the step that failed.
 */
export class Runner {
  /** [step, ms] of every step that completed (a step's own tookMs when it has one). */
  public readonly timings: Array<[string, number]> = [];
  private readonly started: BootStep[] = [];
  private readonly controller: AbortController;
  private abortRejected?: (e: Error) => void;
  private readonly aborted: Promise<never>;

  constructor(private readonly steps: BootStep[], private readonly log: Logger, controller = new AbortController()) {
    this.controller = controller;
    this.aborted = new Promise<never>((_, reject) => (this.abortRejected = reject));
    this.aborted.catch(() => undefined);
  }

  public get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Ends a running start(): the current step's wait is abandoned and start() throws BootAborted. */
  public abort(reason: string): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new BootAborted(reason));
    this.abortRejected?.(new BootAborted(reason));
  }

  public async start(): Promise<void> {
    for (const step of this.steps) {
      if (this.controller.signal.aborted) throw this.controller.signal.reason as BootAborted;
      const t0 = Date.now();
      // Pushed before start: a step that fails half-way is undone too.
      this.started.push(step);
      const starting = step.start(this.controller.signal);
      starting.catch(() => undefined);
      try {
        await Promise.race([starting, this.aborted]);
      } catch (e) {
        if (e instanceof BootAborted || this.controller.signal.aborted) {
          this.log(`boot step '${step.name}' interrupted (${(this.controller.signal.reason as BootAborted).reason}); undoing ${this.undoList()}`);
          // Its undo must come after its last effect (a registration still in flight): let it
          // settle; waits that matter watch the signal and end at once.
          await starting.catch(() => undefined);
          throw this.controller.signal.reason as BootAborted;
        }
        this.log(`boot step '${step.name}' failed: ${(e as Error).message}; undoing ${this.undoList()}`);
        throw e instanceof InputError || e instanceof RuntimeFailure ? e : new RuntimeFailure((e as Error).message);
      }
      this.timings.push([step.name, step.tookMs ?? Date.now() - t0]);
    }
  }

  /** Takes the node out of service before a drained stop: drain on every started step, in reverse; errors are logged. */
  public async drain(reason: string): Promise<void> {
    for (const s of [...this.started].reverse()) {
      try {
        await s.drain?.(reason);
      } catch (e) {
        this.log(`drain: ${s.name}: ${(e as Error).message}`);
      }
    }
  }

  /** Undoes every started step in reverse; errors are logged, the rest still runs. */
  public async stop(): Promise<void> {
    const steps = this.started.splice(0).reverse();
    for (const s of steps) {
      try {
        s.preStop?.();
      } catch (e) {
        this.log(`stop: ${s.name}: ${(e as Error).message}`);
      }
    }
    for (const s of steps) {
      try {
        await s.stop();
      } catch (e) {
        this.log(`stop: ${s.name} failed: ${(e as Error).message}`);
      }
    }
  }

  private undoList(): string {
    return [...this.started].reverse().map((s) => s.name).join(', ') || 'nothing';
  }
}

import { splitNodeName } from '../manifest/names';
import { bootSteps, NodeBoot } from './boot-steps';
import { signalNumber } from './child';
import { Registration } from './epmd/server';
import { RunOptions } from './run-options';
import { BootAborted, Runner } from './runner';

export type { RunOptions } from './run-options';

/**
 * One BEAM node on the mesh: boots the steps, then runs until the BEAM exits or stop() is called.
 * Signals are the caller's (the command layer maps them to stop/kill).
 */
export class NodeRuntime {
  private readonly runner: Runner;
  private stopRequested?: (sig: NodeJS.Signals) => void;
  private stopSignal?: NodeJS.Signals;
  private booting = true;

  constructor(private readonly o: RunOptions, private readonly boot: NodeBoot = bootSteps(o)) {
    this.runner = new Runner(boot.steps, o.log);
  }

  /** Boots and supervises; resolves with the exit code (the BEAM's, or 128+n for a signal during boot). */
  public async run(): Promise<number> {
    const bootStarted = Date.now();
    try {
      await this.runner.start();
    } catch (e) {
      await this.runner.stop();
      if (e instanceof BootAborted && this.stopSignal) {
        this.o.log(`${this.stopSignal} during boot: undone; exit ${128 + signalNumber(this.stopSignal)}`);
        return 128 + signalNumber(this.stopSignal);
      }
      throw e;
    }
    this.booting = false;
    this.logBootSteps(bootStarted);
    if (this.stopSignal) return this.finish(this.stopSignal);
    const beam = this.boot.beam.process;
    const why = await new Promise<NodeJS.Signals | undefined>((resolve) => {
      if (this.boot.beam.exitCode !== undefined) return resolve(undefined);
      beam.once('exit', () => resolve(undefined));
      this.stopRequested = (sig) => resolve(sig);
    });
    return this.finish(why);
  }

  /** A graceful stop: during boot, abandons it; after, stops the BEAM then undoes the rest. */
  public stop(sig: NodeJS.Signals): void {
    if (this.stopSignal) return;
    this.stopSignal = sig;
    this.o.log(`${sig}: stopping ${this.o.manifest.node}`);
    if (this.booting) this.runner.abort(sig);
    else this.stopRequested?.(sig);
  }

  /** Skips the grace periods: SIGKILL to the BEAM and the proxy now, then the same cleanup. */
  public kill(): void {
    this.o.log('stop now: killing the BEAM and the proxy');
    // Later steps first: the BEAM before the proxy.
    for (const step of [...this.boot.steps].reverse()) step.kill?.();
    if (!this.stopSignal) this.stop('SIGKILL');
  }

  private async finish(sig: NodeJS.Signals | undefined): Promise<number> {
    const { beam } = this.boot;
    if (!sig && beam.exitCode !== undefined) {
      this.o.log(`${this.o.command[0]} exited (${beam.process.signalCode ?? `code ${beam.process.exitCode}`})`);
    }
    await this.runner.stop();
    const code = beam.exitCode ?? 1;
    this.o.log(`stopped; exit ${code}`);
    return code;
  }

  /** `boot steps: …` once the BEAM registered: `beam` is from its spawn to its EPMD registration. */
  private logBootSteps(bootStarted: number): void {
    const alive = splitNodeName(this.o.manifest.node).alive;
    const timings = this.runner.timings.filter(([n]) => n !== 'beam' && n !== 'health' && n !== 'watch');
    const epmd = this.boot.epmd.server;
    const onRegistered = (r: Registration) => {
      if (r.name !== alive) return;
      epmd.off('registered', onRegistered);
      const steps = [...timings, ['beam', Date.now() - this.boot.beam.spawnedAt] as [string, number]];
      this.o.log(`boot steps: ${steps.map(([n, ms]) => `${n} ${ms} ms`).join(', ')} (total ${Date.now() - bootStarted} ms)`);
    };
    epmd.on('registered', onRegistered);
  }
}

import { splitNodeName } from '../manifest/names';
import { bootSteps, NodeBoot } from './boot-steps';
import { OwnRegistration } from './own-registration';
import { signalNumber } from './child';
import { DrainWait } from './drain';
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
  private readonly drainWait = new DrainWait();

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
    for (const [step, ms] of this.runner.timings) if (step !== 'beam') this.o.metrics?.bootStep(step, ms);
    this.logBootSteps(bootStarted);
    if (this.stopSignal) return this.finish(this.stopSignal);
    const own = new OwnRegistration(this.boot.epmd.server, splitNodeName(this.o.manifest.node).alive);
    const why = await this.waitForEnd(own);
    const within = `within ${this.o.readyTimeoutMs / 1000}s of its start (--ready-timeout)`;
    if (why === 'unregistered') return this.giveUp([own.why(this.o.manifest.node, within), ...this.judgeUnregistered()].join('; '));
    return this.finish(why, own);
  }

  /** Until the BEAM exits, a stop is asked for, or the ready timeout passes with the node not registered. */
  private waitForEnd(own: OwnRegistration): Promise<NodeJS.Signals | 'unregistered' | undefined> {
    const { beam } = this.boot;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<NodeJS.Signals | 'unregistered' | undefined>((resolve) => {
      if (beam.exitCode !== undefined) return resolve(undefined);
      beam.process.once('exit', () => resolve(undefined));
      this.stopRequested = (sig) => resolve(sig);
      const left = Math.max(0, beam.spawnedAt + this.o.readyTimeoutMs - Date.now());
      // setTimeout takes at most 2^31-1 ms (about 24.8 days); longer waits fire at once.
      timer = setTimeout(() => own.registered || resolve('unregistered'), Math.min(left, 2 ** 31 - 1));
    }).finally(() => clearTimeout(timer));
  }

  /** What the BEAMs behind the command run with that keeps them off the helper's EPMD (-erl_epmd_port, …). */
  private judgeUnregistered(): string[] {
    try {
      return this.boot.beam.judgeUnregistered?.() ?? [];
    } catch {
      return [];
    }
  }

  /** The node never came on the mesh: undone like a stop, exit 1 with the reason. */
  private async giveUp(reason: string): Promise<number> {
    this.o.log(`${reason}; stopping`);
    await this.runner.stop();
    this.o.log('stopped; exit 1');
    return 1;
  }

  /** A graceful stop: during boot, abandons it; after, stops the BEAM then undoes the rest. */
  public stop(sig: NodeJS.Signals): void {
    if (this.stopSignal) return;
    this.stopSignal = sig;
    this.o.log(`${sig}: stopping ${this.o.manifest.node}`);
    if (this.booting) this.runner.abort(sig);
    else this.stopRequested?.(sig);
  }

  /** Skips the grace periods (and a drain): SIGKILL to the BEAM and the proxy now, then the same cleanup. */
  public kill(): void {
    this.o.log('stop now: killing the BEAM and the proxy');
    this.drainWait.cut();
    // Later steps first: the BEAM before the proxy.
    for (const step of [...this.boot.steps].reverse()) step.kill?.();
    if (!this.stopSignal) this.stop('SIGKILL');
  }

  private async finish(sig: NodeJS.Signals | undefined, own?: OwnRegistration): Promise<number> {
    const { beam } = this.boot;
    if (!sig && beam.exitCode !== undefined) {
      this.o.log(`${this.o.command[0]} exited (${beam.process.signalCode ?? `code ${beam.process.exitCode}`})`);
    }
    if (sig && sig !== 'SIGKILL') await this.drain(sig);
    await this.runner.stop();
    let code = beam.exitCode ?? 1;
    // Exit 0 from a command whose node never came on the mesh (a start script that outlived a BEAM
    // that gave up on distribution) is a failure of the node.
    if (!sig && code === 0 && own && !own.registered) {
      this.o.log(own.why(this.o.manifest.node, 'before the command exited'));
      code = 1;
    }
    this.o.log(`stopped; exit ${code}`);
    return code;
  }

  /**
   * With --drain-timeout: the node out of the catalog first (its check critical, so peers' health
   * views and upstreams drop it), then a wait while the BEAM still runs, cut short by its exit or
   * a second signal. The BEAM is stopped after, as without a drain.
   */
  private async drain(sig: NodeJS.Signals): Promise<void> {
    const ms = this.o.drainTimeoutMs;
    if (!ms || this.boot.beam.exitCode !== undefined) return;
    const t0 = Date.now();
    this.o.log(`draining ${this.o.manifest.node} for up to ${ms / 1000}s (--drain-timeout): out of the catalog, the BEAM still running`);
    await this.runner.drain(`stop requested (${sig}); the BEAM stops within ${ms / 1000}s`);
    const end = await this.drainWait.wait(Math.max(0, ms - (Date.now() - t0)), this.boot.beam);
    const why = { timeout: 'drain timeout reached', 'beam-exited': 'the BEAM exited', cut: 'stop now' }[end];
    this.o.log(`drain over after ${((Date.now() - t0) / 1000).toFixed(1)}s (${why})`);
  }

  /**
   * `boot steps: …` once the BEAM registered: `proxy-ready` is from the proxy's spawn to its
   * readiness and `beam` from the BEAM's spawn to its EPMD registration (the two overlap); the
   * total ends when both the steps and the registration are done.
   */
  private logBootSteps(bootStarted: number): void {
    const alive = splitNodeName(this.o.manifest.node).alive;
    const timings = this.runner.timings.filter(([n]) => n !== 'beam' && n !== 'health' && n !== 'watch');
    const { beam } = this.boot;
    const log = () => {
      const steps = [...timings, ['beam', (beam.registeredAt ?? Date.now()) - beam.spawnedAt] as [string, number]];
      this.o.metrics?.bootStep('beam', steps[steps.length - 1][1]);
      this.o.log(`boot steps: ${steps.map(([n, ms]) => `${n} ${ms} ms`).join(', ')} (total ${Date.now() - bootStarted} ms)`);
    };
    if (beam.registeredAt !== undefined) return log();
    const epmd = this.boot.epmd.server;
    const onRegistered = (r: Registration) => {
      if (r.name !== alive) return;
      epmd.off('registered', onRegistered);
      log();
    };
    epmd.on('registered', onRegistered);
  }
}

import { splitNodeName } from '../manifest/names';
import { signalNumber } from './child';
import { BootContext, BootStep, RunOptions } from './context';
import { Registration } from './epmd/server';
import { healthStep } from './steps/health-step';
import { BootAborted, Runner } from './runner';
import { beamStep } from './steps/beam-step';
import { dnsStep } from './steps/dns-step';
import { epmdStep } from './steps/epmd-step';
import { loginStep } from './steps/login-step';
import { portsStep } from './steps/ports-step';
import { proxyStep } from './steps/proxy-step';
import { registrationStep } from './steps/registration-step';
import { stateDirStep } from './steps/state-dir-step';
import { watchStep } from './steps/watch-step';

export type { RunOptions } from './context';

/** The boot, in order; undone in reverse. The login step only with --login-method, the watch only with --kv. */
export const BOOT_STEPS: BootStep[] = [stateDirStep, loginStep, portsStep, registrationStep, epmdStep, dnsStep, proxyStep, healthStep, beamStep, watchStep];

/** The steps of one run: without a login, no login step (nor its name in logs); without --kv, no watch. */
export function bootSteps(o: Pick<RunOptions, 'login' | 'kvKey'>): BootStep[] {
  return BOOT_STEPS.filter((s) => (s !== loginStep || o.login) && (s !== watchStep || o.kvKey));
}

/**
 * One BEAM node on the mesh: boots the steps, then runs until the BEAM exits or stop() is called.
 * Signals are the caller's (the command layer maps them to stop/kill).
 */
export class NodeRuntime {
  private readonly runner: Runner;
  private readonly ctx: BootContext;
  private stopRequested?: (sig: NodeJS.Signals) => void;
  private stopSignal?: NodeJS.Signals;
  private booting = true;

  constructor(private readonly o: RunOptions, steps: BootStep[] = bootSteps(o)) {
    this.runner = new Runner(steps, o.log);
    this.ctx = { o, signal: this.runner.signal };
  }

  /** Boots and supervises; resolves with the exit code (the BEAM's, or 128+n for a signal during boot). */
  public async run(): Promise<number> {
    const bootStarted = Date.now();
    try {
      await this.runner.start(this.ctx);
    } catch (e) {
      await this.runner.stop(this.ctx);
      if (e instanceof BootAborted && this.stopSignal) {
        this.o.log(`${this.stopSignal} during boot: undone; exit ${128 + signalNumber(this.stopSignal)}`);
        return 128 + signalNumber(this.stopSignal);
      }
      throw e;
    }
    this.booting = false;
    this.logBootSteps(bootStarted);
    if (this.stopSignal) return this.finish(this.stopSignal);
    const beam = this.ctx.beam!;
    const why = await new Promise<NodeJS.Signals | undefined>((resolve) => {
      if (this.ctx.beamExitCode !== undefined) return resolve(undefined);
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
    this.ctx.killNow = true;
    this.ctx.beam?.kill('SIGKILL');
    this.ctx.proxy?.kill();
    if (!this.stopSignal) this.stop('SIGKILL');
  }

  private async finish(sig: NodeJS.Signals | undefined): Promise<number> {
    const beam = this.ctx.beam!;
    if (!sig && this.ctx.beamExitCode !== undefined) this.o.log(`${this.o.command[0]} exited (${beam.signalCode ?? `code ${beam.exitCode}`})`);
    await this.runner.stop(this.ctx);
    const code = this.ctx.beamExitCode ?? 1;
    this.o.log(`stopped; exit ${code}`);
    return code;
  }

  /** `boot steps: …` once the BEAM registered: `beam` is from its spawn to its EPMD registration. */
  private logBootSteps(bootStarted: number): void {
    const alive = splitNodeName(this.o.manifest.node).alive;
    const timings = this.runner.timings.filter(([n]) => n !== 'beam' && n !== 'health' && n !== 'watch');
    const onRegistered = (r: Registration) => {
      if (r.name !== alive) return;
      this.ctx.epmd!.off('registered', onRegistered);
      const steps = [...timings, ['beam', Date.now() - this.ctx.beamSpawnedAt!] as [string, number]];
      this.o.log(`boot steps: ${steps.map(([n, ms]) => `${n} ${ms} ms`).join(', ')} (total ${Date.now() - bootStarted} ms)`);
    };
    this.ctx.epmd!.on('registered', onRegistered);
  }
}

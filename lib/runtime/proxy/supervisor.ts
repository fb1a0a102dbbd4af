import { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { spawnTied, stopChild } from '../child';
import { eachLine } from '../lines';
import { Logger } from '../log';
import { RepeatedListenerLines } from './repeated-lines';

export interface ProxySupervisorOptions {
  readonly argv: string[];
  readonly env: NodeJS.ProcessEnv;
  /** Where proxy output lines go: the proxy's logger (`[node][proxy]`, or json with the stream as a field). */
  readonly output: Logger;
  readonly log: Logger;
  /** First restart delay; doubles up to maxBackoffMs. @default 500 */
  readonly initialBackoffMs?: number;
  /** @default 10000 */
  readonly maxBackoffMs?: number;
  /** A run this long resets the backoff. @default 30000 */
  readonly stableAfterMs?: number;
  /** How children are spawned (tests fake spawn failures). @default spawnTied */
  readonly spawn?: (argv: string[], options: SpawnOptions) => ChildProcess;
}

/**
 * Runs the sidecar proxy and restarts it with exponential backoff when it dies.
 * Emits `spawn` (pid), `exit` (code, signal) and `restart` (attempt, delayMs).
 */
export class ProxySupervisor extends EventEmitter {
  private child?: ChildProcess;
  private stopping = false;
  private held = false;
  private backoff: number;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  private restarts = 0;

  constructor(private readonly o: ProxySupervisorOptions) {
    super();
    this.backoff = o.initialBackoffMs ?? 500;
  }

  public get pid(): number | undefined {
    return this.child?.pid;
  }

  public get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  public get restartCount(): number {
    return this.restarts;
  }

  public start(): void {
    this.stopping = false;
    this.held = false;
    this.spawn();
  }

  /** A proxy line to the log, less the built-in proxy's repeats of running listeners (said once). */
  private output(repeats: RepeatedListenerLines, line: string, stream: 'stdout' | 'stderr'): void {
    if (repeats.keep(line)) {
      this.o.output(line, { stream });
      return;
    }
    if (repeats.droppedCount === 1) {
      this.o.log('the built-in proxy starts every upstream listener again on each change: its repeated lines for running listeners are left out');
    }
  }

  private spawn(): void {
    if (this.stopping || this.held) return;
    this.startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = (this.o.spawn ?? spawnTied)(this.o.argv, { env: this.o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      // Some spawn failures throw synchronously (e.g. EAGAIN on fork): same backoff as an exit.
      this.o.log(`proxy failed to start: ${(e as Error).message}`);
      this.scheduleRestart(`failed to start: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return;
    }
    this.child = child;
    const repeats = new RepeatedListenerLines();
    for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
      if (stream) eachLine(stream, (line) => this.output(repeats, line, name));
    }
    let ended = false;
    const end = (why: string) => {
      // 'error' (spawn failed: EAGAIN, EMFILE, ENOENT) may or may not be followed by 'exit'.
      if (ended) return;
      ended = true;
      if (this.stopping || this.held) return;
      this.scheduleRestart(why);
    };
    child.once('error', (e) => {
      this.o.log(`proxy failed to start: ${e.message}`);
      this.emit('exit', null, null);
      end(`failed to start: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
    });
    child.once('spawn', () => this.emit('spawn', child.pid));
    child.once('exit', (code, signal) => {
      if (!ended) this.emit('exit', code, signal);
      end(`exited (${signal ?? `code ${code}`})`);
    });
  }

  private scheduleRestart(why: string): void {
    if (Date.now() - this.startedAt > (this.o.stableAfterMs ?? 30000)) this.backoff = this.o.initialBackoffMs ?? 500;
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 10000);
    this.restarts++;
    this.o.log(`proxy ${why}; restarting in ${delay} ms (restart ${this.restarts})`);
    this.emit('restart', this.restarts, delay);
    this.restartTimer = setTimeout(() => this.spawn(), delay);
  }

  /** Stops supervising (no more restarts) but leaves a running proxy up: the BEAM may still drain through it. */
  public hold(): void {
    this.held = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
  }

  /** SIGKILL to the proxy now (a forced stop). */
  public kill(): void {
    this.hold();
    if (this.running) this.child!.kill('SIGKILL');
  }

  /** Stops the proxy (SIGTERM, then SIGKILL after graceMs) and any pending restart. */
  public async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child && this.child.pid !== undefined) await stopChild(this.child, graceMs);
  }
}

// One Consul agent process inside a host namespace, stopped and restarted by its pid.
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { spawnTied, stopChild } from '../../lib/runtime/child';
import { inNs } from './netns';

export class AgentProcess {
  private child?: ChildProcess;

  constructor(public readonly ns: string, private readonly consul: string, private readonly configFile: string, public readonly logFile: string) {}

  public get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  public get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the agent (again, with the same config and data dir after a stop or kill). */
  public start(): void {
    if (this.running) throw new Error(`agent in ${this.ns} already runs (pid ${this.child!.pid})`);
    const out = fs.openSync(this.logFile, 'a');
    try {
      // Tied to the test process: if it dies, the kernel kills the agent too.
      this.child = spawnTied([...inNs(this.ns), this.consul, 'agent', '-config-file', this.configFile], { stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
  }

  /** Exited already (a bad config), with the end of its log. */
  public failure(): string | undefined {
    if (!this.child || this.running) return undefined;
    const log = fs.readFileSync(this.logFile, 'utf8').slice(-2000);
    return `consul agent in ${this.ns} exited (${this.child.signalCode ?? this.child.exitCode}); log:\n${log}`;
  }

  /** Graceful stop (SIGTERM; SIGKILL after the grace period). */
  public async stop(graceMs = 5000): Promise<void> {
    if (this.child) await stopChild(this.child, graceMs);
  }

  /** A crash: SIGKILL, waits for the exit. */
  public async kill(): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}

import { helperAlive } from '../instance';
import { LiveRegistration } from '../live-registration';
import { HELPER_PID_META } from '../registration';
import { RunOptions } from '../run-options';
import { InstanceConflict } from '../state-dir';
import { BootStep, made, Picked } from './boot-step';

/**
 * Registers the node and its sidecar (idempotent: the same ID replaces a stale registration),
 * then reads back the ports the agent put in force, so later steps see final values. Hands on
 * the registration in force, through which every later registration of the node goes.
 */
export class RegistrationStep implements BootStep {
  public readonly name = 'register';
  private live?: LiveRegistration;
  private registered = false;

  constructor(private readonly o: Pick<RunOptions, 'agent' | 'log' | 'manifest'>, private readonly from: { readonly ports: Picked }) {}

  public get registration(): LiveRegistration {
    return made(this.live, this.name);
  }

  public async start(): Promise<void> {
    const m = this.o.manifest;
    await this.refuseSecondInstance();
    this.registered = true;
    const live = new LiveRegistration(this.o, this.from.ports.picks.ports);
    await live.registerAtBoot();
    this.live = live;
    const p = live.ports;
    this.o.log(`registered ${m.service.id} (dist 127.0.0.1:${p.distPort}, sidecar :${p.sidecarPort}, ${p.upstreams.length} upstreams)`);
  }

  public async stop(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    await this.o.agent.deregisterService(this.o.manifest.service.id);
  }

  /**
   * The state dir's lock covers one dir; the agent's registration covers the node on this host: a
   * registration made by a live helper (another --state-dir) is left alone. One left by a helper
   * that is gone is replaced as before.
   */
  private async refuseSecondInstance(): Promise<void> {
    const { o } = this;
    const existing = await o.agent.service<{ Meta?: Record<string, string> }>(o.manifest.service.id);
    const pid = Number(existing?.Meta?.[HELPER_PID_META]);
    if (pid && pid !== process.pid && helperAlive(pid)) {
      const why = `${o.manifest.service.id} is registered with the agent by helper pid ${pid}; stop it first (this run changed nothing)`;
      throw new InstanceConflict(`already running: ${why}`);
    }
    // Left by a helper that is gone (killed): removed, not replaced, as a registration keeps the
    // status of a check it names again, and a stale `passing` would stand until health's first change.
    if (existing) await o.agent.deregisterService(o.manifest.service.id);
  }
}

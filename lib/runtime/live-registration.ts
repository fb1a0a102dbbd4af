import { NodeManifest } from '../manifest/types';
import { RuntimeFailure } from './errors';
import { isFree, pickFreePort } from './ports';
import { distCheckDefinition, portsFromSidecar, ResolvedPorts, serviceDefinition, sidecarId } from './registration';
import { RunOptions } from './run-options';

/**
 * The node's registration as the agent holds it, for one run: the manifest and ports in force
 * and whether the agent's TCP check on the BEAM is in force. Every registration of the node goes
 * through here, so each one carries what is in force now (a registration replaces the checks).
 */
export class LiveRegistration {
  private inForce: ResolvedPorts;
  private live: NodeManifest;
  private dist = false;

  constructor(private readonly o: Pick<RunOptions, 'agent' | 'log' | 'manifest'>, ports: ResolvedPorts) {
    this.inForce = ports;
    this.live = o.manifest;
  }

  /** The manifest in force: the boot's, or the last version the watch applied. */
  public get manifest(): NodeManifest {
    return this.live;
  }

  public get ports(): ResolvedPorts {
    return this.inForce;
  }

  /** The agent's TCP check on the BEAM is in force (once the BEAM listens): later registrations carry it. */
  public get distCheck(): boolean {
    return this.dist;
  }

  /** Registers `manifest` with `ports` (by default what is in force); the helper's pid in the meta. */
  public async register(manifest = this.live, ports = this.inForce): Promise<void> {
    await this.o.agent.registerService(serviceDefinition(manifest, ports, process.pid, this.dist));
  }

  /** Registers what is in force and reads back the ports the agent put in force (the sidecar's port). */
  public async registerAtBoot(): Promise<void> {
    const m = this.live;
    await this.register();
    const reg = await this.o.agent.service(sidecarId(m));
    if (!reg) throw new RuntimeFailure(`the agent did not register the sidecar ${sidecarId(m)}`);
    this.inForce = portsFromSidecar(this.inForce, reg);
    // The agent assigns sidecar ports knowing only its own registrations; something else on the
    // host (another agent's proxy, any daemon) may hold that port. Prove it free, else move.
    if (!m.sidecar.port && !(await isFree('0.0.0.0', this.inForce.sidecarPort))) await this.moveSidecar();
  }

  /** `manifest` with `ports` registered and read back: the ports the agent put in force, nothing switched yet. */
  public async registerVersion(manifest: NodeManifest, ports: ResolvedPorts): Promise<ResolvedPorts> {
    await this.register(manifest, ports);
    const reg = await this.o.agent.service(sidecarId(manifest));
    if (!reg) throw new RuntimeFailure(`the agent lost the sidecar ${sidecarId(manifest)}`);
    return portsFromSidecar(ports, reg);
  }

  /** A new version is in force (the watch applied it). */
  public switchTo(manifest: NodeManifest, ports: ResolvedPorts): void {
    this.live = manifest;
    this.inForce = ports;
  }

  /** The BEAM listens (it registered its port): from now on the agent dials it too. */
  public async addDistCheck(): Promise<void> {
    await this.o.agent.registerCheck(distCheckDefinition(this.live, this.inForce));
    this.dist = true;
  }

  /** Registers the sidecar again on a port proven free now (something else took the agent's choice). */
  public async moveSidecar(): Promise<void> {
    const { o } = this;
    const moved = await pickFreePort('0.0.0.0', new Set());
    o.log(`sidecar port ${this.inForce.sidecarPort} assigned by the agent is in use on this host; registering with ${moved}`);
    this.inForce = { ...this.inForce, sidecarPort: moved };
    await this.register();
    const again = await o.agent.service(sidecarId(this.live));
    if (!again || again.Port !== moved) throw new RuntimeFailure(`the agent did not move the sidecar ${sidecarId(this.live)} to port ${moved}`);
  }

  /**
   * Registers an upstream again on a port proven free now: helpers of one host booting at the same
   * moment can probe the same free port for their upstream listeners, and one proxy binds it first.
   * False when the port is fixed in the manifest (not ours to move); the caller moves the EPMD route.
   */
  public async moveUpstream(address: string, port: number): Promise<boolean> {
    const ports = this.inForce;
    const i = ports.upstreams.findIndex((u) => u.address === address && u.port === port);
    if (i < 0 || this.live.upstreams[i]?.port) return false;
    const moved = await pickFreePort(address, new Set([...ports.upstreams.map((u) => `${u.address}:${u.port}`), `127.0.0.1:${ports.distPort}`]));
    this.o.log(`upstream listener ${address}:${port} (${ports.upstreams[i].service}) is in use on this host; registering with ${moved}`);
    const upstreams = ports.upstreams.map((u, j) => (j === i ? { ...u, port: moved } : u));
    this.inForce = { ...ports, upstreams };
    await this.register();
    return true;
  }
}

import { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { splitNodeName } from '../../manifest/names';
import { beamEnvironment, inetrc } from '../beam-env';
import { beamProcesses, findBeam, judgeBeam } from '../beam-judge';
import { signalNumber, spawnTied, stopChild } from '../child';
import { DnsServer } from '../dns/server';
import { Registration } from '../epmd/server';
import { RuntimeFailure } from '../errors';
import { isFree } from '../ports';
import { groupSignal, GroupWatchdog, spawnGroup, stopGroup } from '../process-group';
import { RunOptions } from '../run-options';
import { LiveFiles, versionOf } from '../topology/outputs';
import { BootStep, made, Picked, Registered, Serving } from './boot-step';

type BeamOptions = Pick<RunOptions, 'command' | 'env' | 'log' | 'manifest' | 'base' | 'manifestSource' | 'stateDir' | 'stopTimeoutMs'>;

/** What the beam step reads of the steps before it. */
export interface BeamInputs {
  readonly ports: Picked;
  readonly register: Registered;
  /** Its `registered` event (the BEAM's ALIVE2) ends the BEAM's boot time. */
  readonly epmd: Serving<EventEmitter & { readonly port: number }>;
  readonly dns: Serving<Pick<DnsServer, 'port' | 'setHosts'>>;
}

/** Host map (DNS responder, hosts file and the inetrc naming both), peers and state for the BEAM and scripts, then the BEAM itself. */
export class BeamStep implements BootStep {
  public readonly name = 'beam';
  /** The BEAM's exit code once it exited (127: it could not be started). */
  public exitCode?: number;
  /** When the BEAM first registered with the helper's EPMD under its own name (Date.now()). */
  public registeredAt?: number;
  private beam?: ChildProcess;
  private startedAt?: number;
  private files?: LiveFiles;
  private watchdog?: GroupWatchdog;
  /** The command leads its own process group (not on a terminal: see spawn). */
  private ownGroup = false;
  private killNow = false;

  constructor(private readonly o: BeamOptions, private readonly from: BeamInputs) {}

  /** The BEAM's process, once spawned. */
  public get process(): ChildProcess {
    return made(this.beam, this.name);
  }

  /** When the BEAM was spawned (Date.now()). */
  public get spawnedAt(): number {
    return made(this.startedAt, this.name);
  }

  /**
   * What differs between the BEAM behind the command (the holder of the distribution listener
   * among its descendants) and what the helper set; empty when nothing, or when /proc cannot say.
   */
  public judge(): string[] {
    const pid = this.beam?.pid;
    if (pid === undefined || process.platform !== 'linux') return [];
    const distPort = this.from.register.registration.ports.distPort;
    const facts = findBeam(pid, distPort);
    if (!facts) return [];
    return judgeBeam(facts, { distPort, epmdPort: this.from.epmd.server.port, inetrcPath: this.o.stateDir.inetrcPath });
  }

  /** For a node that never registered: what differs on the BEAMs behind the command (no listener to find it by). */
  public judgeUnregistered(): string[] {
    const pid = this.beam?.pid;
    if (pid === undefined || process.platform !== 'linux') return [];
    const distPort = this.from.register.registration.ports.distPort;
    const wants = { distPort, epmdPort: this.from.epmd.server.port, inetrcPath: this.o.stateDir.inetrcPath };
    return beamProcesses(pid).flatMap((b) => judgeBeam(b, wants));
  }

  /** The files the BEAM and scripts read, and the version in force they name. */
  public get liveFiles(): LiveFiles {
    return made(this.files, this.name);
  }

  public async start(): Promise<void> {
    const { o, from } = this;
    const m = o.manifest;
    const ports = from.register.registration.ports;
    // Held since the pick; released for the BEAM. A fixed port was only proven free at boot:
    // another process on the host may have taken it since. Say so here rather than let the BEAM
    // fail with a bare 'eaddrinuse'.
    await from.ports.picks.held.release('dist');
    if (!(await isFree('127.0.0.1', ports.distPort))) {
      throw new RuntimeFailure(`service.distPort: port ${ports.distPort} on 127.0.0.1 was taken by another process during boot; run again`);
    }
    const sources = { registration: from.register.registration, epmdPort: from.epmd.server.port, dns: from.dns.server };
    this.files = new LiveFiles(o.stateDir, sources, versionOf(o.base?.manifest ?? m, o.manifestSource ?? 'manifest'));
    this.files.write();
    o.stateDir.writeInetrc(inetrc(o.stateDir.hostsPath, from.dns.server.port, m.node));
    await this.spawn(ports.distPort, from.epmd.server.port);
  }

  public async stop(): Promise<void> {
    const beam = this.beam;
    if (!beam || beam.pid === undefined) return;
    if (!this.ownGroup) {
      if (this.killNow) beam.kill('SIGKILL');
      this.exitCode = await stopChild(beam, this.killNow ? 0 : this.o.stopTimeoutMs);
      return;
    }
    // The command's whole process group: a start script, the BEAM it runs, their children.
    if (this.killNow) groupSignal(beam.pid, 'SIGKILL');
    this.exitCode = await stopGroup(beam, this.killNow ? 0 : this.o.stopTimeoutMs);
    this.watchdog?.disarm();
  }

  public kill(): void {
    this.killNow = true;
    if (this.beam?.pid === undefined) return;
    if (this.ownGroup) groupSignal(this.beam.pid, 'SIGKILL');
    else this.beam.kill('SIGKILL');
  }

  private async spawn(distPort: number, epmdPort: number): Promise<void> {
    const { o } = this;
    const m = o.manifest;
    const { inetrcPath, dir: stateDir } = o.stateDir;
    const env = beamEnvironment(withoutTokens(o.env), { node: m.node, epmdPort, distPort, inetrcPath, stateDir });
    // Leader of its own process group (pgid = pid), stopped as a group; a watchdog kills the
    // group if the helper dies without stopping it (lib/runtime/process-group.ts). Not on a
    // terminal: an interactive BEAM (iex) must stay in the terminal's foreground group, with it as
    // controlling terminal, to get Ctrl-C (its BREAK menu) itself; there the direct child only,
    // as before (docs/limits.md).
    this.ownGroup = !process.stdin.isTTY;
    const beam = this.ownGroup ? spawnGroup(o.command, { env, stdio: 'inherit' }) : spawnTied(o.command, { env, stdio: 'inherit' });
    this.beam = beam;
    this.startedAt = Date.now();
    this.timeRegistration();
    beam.once('exit', (code, signal) => {
      this.exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
    });
    await new Promise<void>((resolve, reject) => {
      beam.once('spawn', () => resolve());
      beam.once('error', (e) => {
        this.exitCode = 127;
        reject(new RuntimeFailure(`cannot start ${o.command[0]}: ${e.message}`));
      });
    });
    if (this.ownGroup) this.watchdog = new GroupWatchdog(beam.pid!);
    o.log(`started ${o.command[0]} (pid ${beam.pid}) as ${m.node}`);
  }

  /** Notes when the BEAM registers under its own name: it may be before the boot's steps all ran. */
  private timeRegistration(): void {
    const epmd = this.from.epmd.server;
    const alive = splitNodeName(this.o.manifest.node).alive;
    const onRegistered = (r: Registration) => {
      if (r.name !== alive) return;
      this.registeredAt = Date.now();
      epmd.off('registered', onRegistered);
    };
    epmd.on('registered', onRegistered);
  }
}

/** The BEAM needs no Consul token: least privilege. */
function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.CONSUL_HTTP_TOKEN;
  delete out.CONSUL_HTTP_TOKEN_FILE;
  return out;
}

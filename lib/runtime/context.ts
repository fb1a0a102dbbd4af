import { ChildProcess } from 'node:child_process';
import { NodeManifest, ProxyKind } from '../manifest/types';
import { ConsulAgent } from './consul/agent';
import { DnsServer } from './dns/server';
import { EpmdServer } from './epmd/server';
import { Logger } from './log';
import { HeldPorts } from './ports';
import { AclLogin } from './consul/login';
import { ProxySupervisor } from './proxy/supervisor';
import { ResolvedPorts } from './registration';
import { ManifestVersion, RefusedVersion, StateDir } from './state-dir';

/** Everything `meshx-node run` decided before booting: validated input only. */
export interface RunOptions {
  readonly manifest: NodeManifest;
  /** Where the manifest came from (`kv:<key>`, a file, a synth dir), for state.json. */
  readonly manifestSource?: string;
  /** With --kv: the key the watch step follows after boot. */
  readonly kvKey?: string;
  readonly command: string[];
  readonly agent: ConsulAgent;
  /** Path of the token file, passed to the proxy as -token-file. */
  readonly tokenFile?: string;
  /** The node's token comes from an auth-method login (--login-method); exclusive with tokenFile. */
  readonly login?: AclLogin;
  readonly consulBin: string;
  readonly proxyKind: ProxyKind;
  readonly stateDir: StateDir;
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly grpcAddr?: string;
  readonly envoyBin?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly proxyOutput: Logger;
}

/**
 * What the boot steps share: the options, and what each step produced for the later ones.
 * A step sets its fields in start and reads only fields of steps before it.
 */
export interface BootContext {
  readonly o: RunOptions;
  /** Aborted when a stop is asked for during boot: long waits give up. */
  readonly signal: AbortSignal;
  /** Set by ports, completed by registration (agent's assignment) and epmd (its port). */
  ports?: ResolvedPorts;
  /** The login's token file in the state dir (login), for the proxy's -token-file. */
  tokenFile?: string;
  /** Envoy's admin listener (ports). */
  adminBind?: string;
  /** Picked ports still held by the helper until their consumer binds them (ports). */
  held?: HeldPorts;
  epmd?: EpmdServer;
  /** The loopback DNS responder answering the live host map (dns). */
  dns?: DnsServer;
  proxy?: ProxySupervisor;
  /** The agent's TCP check on the BEAM is in force (health, once the BEAM listens): later registrations carry it. */
  distCheck?: boolean;
  beam?: ChildProcess;
  beamSpawnedAt?: number;
  /** The BEAM's exit code once it exited. */
  beamExitCode?: number;
  /** A stop asked to skip the grace periods (second SIGTERM). */
  killNow?: boolean;
  /** The manifest in force when a newer version was applied while running (watch); else o.manifest. */
  manifest?: NodeManifest;
  /** The version in force (beam, then watch), and the last one refused (watch). */
  version?: ManifestVersion;
  refused?: RefusedVersion;
}

/** The manifest in force: the boot's, or the last version the watch applied. */
export function liveManifest(ctx: Pick<BootContext, 'o' | 'manifest'>): NodeManifest {
  return ctx.manifest ?? ctx.o.manifest;
}

/**
 * One boot step, in the manner of Nomad's task-runner hooks: start does its part of the boot,
 * stop undoes it (and must cope with a start that failed half-way). preStop runs on every
 * started step before any stop, for what must end before the BEAM drains (supervision, health).
 */
export interface BootStep {
  readonly name: string;
  start(ctx: BootContext): Promise<void>;
  stop(ctx: BootContext): Promise<void>;
  preStop?(ctx: BootContext): void;
}

import { LiveRegistration } from '../live-registration';
import { PortPicks } from '../ports';

/**
 * One boot step, in the manner of Nomad's task-runner hooks: built for one run, it holds its own
 * state; start does its part of the boot, stop undoes it (and must cope with a start that failed
 * half-way). preStop runs on every started step before any stop, for what must end before the
 * BEAM drains (supervision, health). drain, on a stop with --drain-timeout, takes the step's part
 * of the node out of service first, while the BEAM still runs (health: the check critical). kill
 * skips the grace periods of a step that runs a process.
 * What later steps need, a step hands over as a typed result read after its start.
 */
export interface BootStep {
  readonly name: string;
  /**
   * A step whose work began before its start (beside the steps between): how long that work took,
   * reported instead of the time its start held up the boot.
   */
  readonly tookMs?: number;
  /** `signal` is aborted when a stop is asked for during boot: long waits give up. */
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  preStop?(): void;
  /** `reason` says why, for the agent's view of the node. */
  drain?(reason: string): Promise<void>;
  kill?(): void;
}

/** A step's result; read before the step made it is a fault in the order of the steps. */
export function made<T>(value: T | undefined, step: string): T {
  if (value === undefined) throw new Error(`boot step '${step}' has not started: its result is not there yet`);
  return value;
}

/** The ports step's result: ports resolved, picks held. */
export interface Picked {
  readonly picks: PortPicks;
}

/** The registration step's result: the registration in force. */
export interface Registered {
  readonly registration: LiveRegistration;
}

/** A step's listening server (EPMD, DNS) or supervised process (the proxy). */
export interface Serving<T> {
  readonly server: T;
}

/** Where the proxy reads the node's token: the login's file, or the one given (--token-file). */
export interface TokenSource {
  readonly tokenFile?: string;
  /** `then` runs after each new login, until the node stops. */
  onRenewed?(then: () => Promise<void>): void;
}

/**
 * Whether the sidecar proxy holds its listeners, known before the proxy step starts: the EPMD
 * step holds peer lookups on it from its own start, since the BEAM is spawned before the proxy.
 * The proxy step settles it (either way) once its readiness wait ends, or when it stops.
 */
export class SidecarReadiness {
  /** Settles when the wait for the proxy's listeners ended, whatever its outcome. */
  public readonly settled: Promise<void>;
  private settle!: () => void;

  constructor() {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
  }

  /** Settles once `wait` does. */
  public follow(wait: Promise<unknown>): void {
    wait.then(this.settle, this.settle);
  }

  /** Settles now (the proxy will not start). */
  public end(): void {
    this.settle();
  }
}

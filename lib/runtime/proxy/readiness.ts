import { ProxyKind } from '../../manifest/types';
import { RuntimeFailure } from '../errors';
import { canReadSocketTable, ListenerStates, listenerStates } from './listeners';
import { canConnect } from '../ports';
import { ResolvedPorts } from '../registration';

export interface ReadyOptions {
  readonly kind: ProxyKind;
  readonly adminBind?: string;
  readonly timeoutMs: number;
  /** The proxy's restarts (named in the error) and pid (listeners must be its own). */
  readonly proxy: { restartCount: number; pid?: number };
  /** Gives up early (a stop during boot). */
  readonly signal?: AbortSignal;
}

/** A listener the proxy needs is held by another process: waiting will not help. */
export class ListenerTaken extends RuntimeFailure {
  constructor(public readonly what: 'public listener' | 'upstream', public readonly address: string, public readonly port: number) {
    super(`the proxy cannot listen on ${address}:${port} (${what}): another process holds that port`);
  }
}

/** The proxy did not hold every listener in time; `missing` names each one that nothing listens on. */
export class ProxyNotReady extends RuntimeFailure {
  constructor(public readonly missing: readonly string[], public readonly waitedMs: number, public readonly restarts: number) {
    // restarts: exits the supervisor restarted the proxy after, not the step's own restarts of a stuck one.
    const exited = restarts ? ` (the proxy exited and was restarted ${restarts} times; see its [proxy] lines)` : '';
    super(`proxy not ready within ${Math.round(waitedMs / 1000)}s: nothing listens on ${missing.join(', ')}${exited}`);
  }

  /** The same failure, named against the whole wait it ended (the ready timeout, not the last attempt). */
  public within(ms: number): ProxyNotReady {
    return new ProxyNotReady(this.missing, ms, this.restarts);
  }
}

/**
 * How often a proxy that does not become ready is started within the ready timeout: the timeout
 * split evenly into up to 3 attempts, each at least `floorMs`. A built-in proxy binds all of its
 * listeners ~0.2 s after it starts (medians 0.23 s on Consul 1.8.7 and 0.21 s on 1.14.11, at most
 * 0.46 s in 22 boots on a loaded 2-vCPU VM): a floor of 5 s restarts only one that is stuck,
 * not one that is slow. A timeout below two floors gets one attempt, as before restarts existed.
 */
export function readyAttempts(timeoutMs: number, floorMs = 5000): { attempts: number; attemptMs: number } {
  const attempts = Math.max(1, Math.min(3, Math.floor(timeoutMs / floorMs)));
  return { attempts, attemptMs: timeoutMs / attempts };
}

/**
 * Which targets are up. On Linux from the kernel's socket table: bound, in LISTEN, by the proxy
 * itself. Connecting instead would make the proxy dial the peer (an upstream listener) or the
 * BEAM (the public listener), which logs "failed to dial" on every healthy boot.
 */
async function listening(targets: Array<{ address: string; port: number }>, pid: number | undefined): Promise<ListenerStates> {
  if (canReadSocketTable()) return listenerStates(targets, pid);
  const bound = await Promise.all(targets.map((t) => canConnect(t.address, t.port, 500)));
  return { bound, heldByOthers: targets.map(() => false) };
}

/**
 * Waits until the proxy listens on every upstream listener and its public listener (and, for
 * Envoy, reports LIVE on /ready, which can precede the listeners).
 */
export async function waitProxyReady(ports: ResolvedPorts, o: ReadyOptions): Promise<void> {
  const until = Date.now() + o.timeoutMs;
  // The public listener binds every address (0.0.0.0).
  const upstreams = ports.upstreams.map((u) => ({ address: u.address, port: u.port, what: `upstream ${u.service}` }));
  const targets = [...upstreams, { address: '0.0.0.0', port: ports.sidecarPort, what: 'public listener' }];
  let pending = targets;
  let polls = 0;
  for (;;) {
    if (o.signal?.aborted) throw new RuntimeFailure('proxy readiness: stopped');
    const states = await listening(pending, o.proxy.pid);
    const taken = o.proxy.pid !== undefined ? pending.find((_, i) => states.heldByOthers[i]) : undefined;
    if (taken) throw new ListenerTaken(taken.what === 'public listener' ? 'public listener' : 'upstream', taken.address, taken.port);
    pending = pending.filter((_, i) => !states.bound[i]);
    let envoyLive = true;
    if (o.kind === ProxyKind.ENVOY && o.adminBind) {
      envoyLive = await fetch(`http://${o.adminBind}/ready`, { signal: AbortSignal.timeout(500) }).then((r) => r.status === 200, () => false);
    }
    if (pending.length === 0 && envoyLive) return;
    if (Date.now() > until) {
      const what = pending.map((t) => `${t.what} ${t.address}:${t.port}`).concat(envoyLive ? [] : [`envoy /ready on ${o.adminBind}`]);
      throw new ProxyNotReady(what, o.timeoutMs, o.proxy.restartCount);
    }
    await new Promise((r) => setTimeout(r, readyPollDelayMs(++polls)));
  }
}

/**
 * The pause before readiness check number `polls` + 1: 5 ms, doubling to 100 ms. A running proxy
 * opens a new upstream's listener within milliseconds of the agent's update, and a change waits
 * for it: a fixed 100 ms added up to that to every change applied.
 */
export function readyPollDelayMs(polls: number): number {
  return Math.min(100, 5 * 2 ** Math.max(0, polls - 1));
}

import { ProxyKind } from '../../manifest/types';
import { RuntimeFailure } from '../errors';
import { boundListeners, canReadSocketTable, heldByOthers } from './listeners';
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

/**
 * Which targets are up. On Linux from the kernel's socket table: bound, in LISTEN, by the proxy
 * itself. Connecting instead would make the proxy dial the peer (an upstream listener) or the
 * BEAM (the public listener), which logs "failed to dial" on every healthy boot.
 */
async function listening(targets: Array<{ address: string; port: number }>, pid: number | undefined): Promise<boolean[]> {
  if (canReadSocketTable()) return boundListeners(targets, pid);
  return Promise.all(targets.map((t) => canConnect(t.address, t.port, 500)));
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
  for (;;) {
    if (o.signal?.aborted) throw new RuntimeFailure('proxy readiness: stopped');
    const results = await listening(pending, o.proxy.pid);
    pending = pending.filter((_, i) => !results[i]);
    if (o.proxy.pid !== undefined && canReadSocketTable()) {
      const held = heldByOthers(pending, o.proxy.pid);
      const taken = pending.find((_, i) => held[i]);
      if (taken) throw new ListenerTaken(taken.what === 'public listener' ? 'public listener' : 'upstream', taken.address, taken.port);
    }
    let envoyLive = true;
    if (o.kind === ProxyKind.ENVOY && o.adminBind) {
      envoyLive = await fetch(`http://${o.adminBind}/ready`, { signal: AbortSignal.timeout(500) }).then((r) => r.status === 200, () => false);
    }
    if (pending.length === 0 && envoyLive) return;
    if (Date.now() > until) {
      const what = pending.map((t) => `${t.what} ${t.address}:${t.port}`).concat(envoyLive ? [] : [`envoy /ready on ${o.adminBind}`]);
      const restarts = o.proxy.restartCount ? ` (the proxy exited and was restarted ${o.proxy.restartCount} times; see its [proxy] lines)` : '';
      throw new RuntimeFailure(`proxy not ready within ${Math.round(o.timeoutMs / 1000)}s: nothing listens on ${what.join(', ')}${restarts}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

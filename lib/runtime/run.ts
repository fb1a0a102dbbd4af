import { ChildProcess } from 'node:child_process';
import { splitNodeName } from '../manifest/names';
import { NodeManifest, ProxyKind } from '../manifest/types';
import { findEpmdBypass, beamEnvironment, inetrc } from './beam-env';
import { signalNumber, spawnTied, stopChild, which } from './child';
import { CheckStatus, ConsulAgent, ConsulError } from './consul-agent';
import { EpmdServer, Registration } from './epmd/server';
import { InputError, RuntimeFailure } from './errors';
import { Logger } from './log';
import { canConnect, isFree, probeFreePort, resolvePort } from './ports';
import { proxyCommand } from './proxy-command';
import { ProxySupervisor } from './proxy-supervisor';
import { beamCheckId, portsFromSidecar, proxyCheckId, ResolvedPorts, serviceDefinition, sidecarId } from './registration';
import { StateDir } from './state-dir';

export interface RunOptions {
  readonly manifest: NodeManifest;
  readonly command: string[];
  readonly agent: ConsulAgent;
  /** Path of the token file, passed to the proxy as -token-file. */
  readonly tokenFile?: string;
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
  /** Install SIGTERM/SIGINT handlers. @default true */
  readonly handleSignals?: boolean;
  /** Called with each boot step and its duration (for benchmarks). */
  readonly onStep?: (step: string, ms: number) => void;
}

/** Consul durations ("15s", "1m30s", "500ms") in milliseconds. */
export function durationMs(d: string): number {
  let total = 0;
  for (const [, n, unit] of d.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[unit as 'ms']!;
  return total;
}

/** Checks on the BEAM command, before anything is started or registered; bad input is exit 2. */
export function preflightCommand(command: string[], env: NodeJS.ProcessEnv): void {
  if (command.length === 0) throw new InputError('no command to run: put the BEAM command after --, e.g. -- erl -name app@host');
  if (!which(command[0], env.PATH)) throw new InputError(`command not found: ${command[0]}`);
  const bypass = findEpmdBypass(command, env);
  if (bypass) throw new InputError(bypass);
}

/** Checks that the proxy can be started, once the proxy kind is known. */
export function preflightProxy(o: { consulBin: string; proxyKind: ProxyKind; envoyBin?: string; env: NodeJS.ProcessEnv }): void {
  if (!which(o.consulBin, o.env.PATH)) throw new InputError(`consul binary not found: ${o.consulBin} (set --consul-bin)`);
  if (o.proxyKind === ProxyKind.ENVOY && !which(o.envoyBin ?? 'envoy', o.env.PATH)) {
    throw new InputError(`envoy binary not found: ${o.envoyBin ?? 'envoy'} (install Envoy, set --envoy-bin, or use --proxy builtin)`);
  }
}

/**
 * Boots one BEAM node onto the mesh and supervises it; resolves with the exit code to use
 * (the BEAM's). Throws InputError / RuntimeFailure before the BEAM starts, after undoing
 * whatever was already done.
 */
export async function runNode(o: RunOptions): Promise<number> {
  const m = o.manifest;
  const alive = splitNodeName(m.node).alive;
  const cleanups: Array<{ what: string; fn: () => Promise<void> | void }> = [];
  const bootStarted = Date.now();
  const steps: string[] = [];
  const step = (name: string, t0: number) => {
    const ms = Date.now() - t0;
    steps.push(`${name} ${ms} ms`);
    o.onStep?.(name, ms);
  };
  let shuttingDown = false;

  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c.fn();
      } catch (e) {
        o.log(`cleanup: ${c.what} failed: ${(e as Error).message}`);
      }
    }
  };

  // Signals that arrive during boot abort it cleanly.
  let bootAbort: ((sig: string) => void) | undefined;
  const bootAborted = new Promise<never>((_, reject) => {
    bootAbort = (sig) => reject(new RuntimeFailure(`interrupted by ${sig} during boot`));
  });
  bootAborted.catch(() => undefined);
  const onBootSignal = (sig: NodeJS.Signals) => bootAbort?.(sig);
  if (o.handleSignals ?? true) {
    process.on('SIGTERM', onBootSignal);
    process.on('SIGINT', onBootSignal);
  }
  const race = <T>(p: Promise<T>) => Promise.race([p, bootAborted]);

  let epmd: EpmdServer;
  let ports: ResolvedPorts;
  let proxy: ProxySupervisor;
  let adminBind: string | undefined;
  try {
    // The state dir first: an unusable one must fail before anything is registered.
    try {
      o.stateDir.create();
    } catch (e) {
      throw new RuntimeFailure(`--state-dir: cannot create ${o.stateDir.dir}: ${(e as Error).message}`);
    }
    cleanups.push({ what: 'remove the state dir', fn: () => o.stateDir.remove() });

    // 3. Ports: zeros picked, fixed ones proven free, before anything is registered.
    let t0 = Date.now();
    const distPort = await resolvePort('service.distPort', '127.0.0.1', m.service.distPort);
    const upstreams = [];
    for (const [i, u] of m.upstreams.entries()) {
      upstreams.push({ ...u, port: await resolvePort(`upstreams[${i}].port (${u.node})`, u.address, u.port) });
    }
    epmd = new EpmdServer({
      port: m.epmdPort,
      addresses: ['127.0.0.1', ...new Set(upstreams.map((u) => u.address))],
      peers: upstreams.map((u) => ({ address: u.address, alive: splitNodeName(u.node).alive, port: u.port })),
      log: o.log,
    });
    try {
      await epmd.start();
    } catch (e) {
      await epmd.close();
      throw new RuntimeFailure(`epmdPort: ${(e as Error).message}`);
    }
    cleanups.push({ what: 'stop the EPMD server', fn: () => epmd.close() });
    if (m.sidecar.port) await resolvePort('sidecar.port', '0.0.0.0', m.sidecar.port).catch((e) => Promise.reject(new RuntimeFailure(e.message)));
    if (o.proxyKind === ProxyKind.ENVOY) adminBind = `127.0.0.1:${await probeFreePort('127.0.0.1')}`;
    ports = { epmdPort: epmd.port, distPort, sidecarPort: 0, upstreams };
    step('ports', t0);

    // Register (idempotent: same ID replaces a stale registration and its checks).
    t0 = Date.now();
    cleanups.push({ what: `deregister ${m.service.id}`, fn: () => o.agent.deregisterService(m.service.id) });
    await race(o.agent.registerService(serviceDefinition(m, ports)));
    const reg = await race(o.agent.service(sidecarId(m)));
    if (!reg) throw new RuntimeFailure(`the agent did not register the sidecar ${sidecarId(m)}`);
    ports = portsFromSidecar(ports, reg);
    // The agent assigns sidecar ports knowing only its own registrations; something else on the
    // host (another agent's proxy, any daemon) may hold that port. Prove it free, else move.
    if (!m.sidecar.port && !(await isFree('0.0.0.0', ports.sidecarPort))) {
      const moved = await probeFreePort('0.0.0.0');
      o.log(`sidecar port ${ports.sidecarPort} assigned by the agent is in use on this host; registering with ${moved}`);
      ports = { ...ports, sidecarPort: moved };
      await race(o.agent.registerService(serviceDefinition(m, ports)));
      const again = await race(o.agent.service(sidecarId(m)));
      if (!again || again.Port !== moved) throw new RuntimeFailure(`the agent did not move the sidecar ${sidecarId(m)} to port ${moved}`);
    }
    epmd.setPeers(ports.upstreams.map((u) => ({ address: u.address, alive: splitNodeName(u.node).alive, port: u.port })));
    step('register', t0);
    o.log(`registered ${m.service.id} (dist 127.0.0.1:${ports.distPort}, sidecar :${ports.sidecarPort}, epmd :${ports.epmdPort}, ${ports.upstreams.length} upstreams)`);

    // 4. Proxy, supervised; wait until every listener accepts.
    t0 = Date.now();
    const argv = proxyCommand({
      kind: o.proxyKind,
      consulBin: o.consulBin,
      proxyId: sidecarId(m),
      httpAddr: o.agent.baseUrl,
      tokenFile: o.tokenFile,
      adminBind,
      grpcAddr: o.grpcAddr,
      envoyBin: o.envoyBin,
    });
    proxy = new ProxySupervisor({ argv, env: o.env, output: o.proxyOutput, log: o.log });
    cleanups.push({ what: 'stop the proxy', fn: () => proxy.stop() });
    proxy.start();
    await race(waitProxyReady(ports, o.proxyKind, adminBind, o.readyTimeoutMs, proxy));
    step('proxy-ready', t0);
    o.log(`proxy ready (${o.proxyKind}, pid ${proxy.pid})`);

    // 5. Host map and state, for the BEAM and for scripts.
    o.stateDir.writeInetrc(inetrc(m.node, ports.upstreams));
    o.stateDir.writeState({ node: m.node, serviceId: m.service.id, helperPid: process.pid, epmdPort: ports.epmdPort, distPort: ports.distPort, sidecarPort: ports.sidecarPort, upstreams: ports.upstreams, inetrc: o.stateDir.inetrcPath });
  } catch (e) {
    await cleanup();
    detach();
    throw e instanceof InputError || e instanceof RuntimeFailure ? e : new RuntimeFailure((e as Error).message);
  }

  // The BEAM.
  const beamEnv = beamEnvironment(withoutTokens(o.env), { node: m.node, epmdPort: ports.epmdPort, distPort: ports.distPort, inetrcPath: o.stateDir.inetrcPath, stateDir: o.stateDir.dir });
  const beamStarted = Date.now();
  const beam: ChildProcess = spawnTied(o.command, { env: beamEnv, stdio: 'inherit' });
  o.log(`started ${o.command[0]} (pid ${beam.pid}) as ${m.node}`);

  // 6. Health: passing while the BEAM is registered under its name and the proxy is up.
  let beamUp = false;
  let proxyUp = true;
  const ttlMs = durationMs(m.service.ttl);
  let lastReported = '';
  let lastLine = '';
  const report = async () => {
    const beamCheck: [CheckStatus, string] = beamUp ? ['passing', `${m.node} registered on 127.0.0.1:${ports.distPort}`] : ['critical', `${m.node} is not registered with EPMD`];
    const proxyCheck: [CheckStatus, string] = proxyUp ? ['passing', `${o.proxyKind} proxy pid ${proxy.pid} accepting`] : ['critical', `sidecar proxy down (restart ${proxy.restartCount})`];
    const update = () => Promise.all([o.agent.updateTtl(beamCheckId(m), ...beamCheck), o.agent.updateTtl(proxyCheckId(m), ...proxyCheck)]);
    try {
      await update();
    } catch (e) {
      if (shuttingDown) return;
      // The agent lost our registration (restarted, or reaped us): register again, same ports.
      if (e instanceof ConsulError && (e.status === 404 || e.status === 500)) {
        o.log(`the agent no longer knows ${m.service.id} (${e.status}); registering again`);
        try {
          await o.agent.registerService(serviceDefinition(m, ports));
          await update();
        } catch (e2) {
          o.log(`re-registration failed: ${(e2 as Error).message}`);
          return;
        }
      } else {
        o.log(`health update failed: ${(e as Error).message}`);
        return;
      }
    }
    const status = beamUp && proxyUp ? 'passing' : 'critical';
    const line = status === 'passing' ? `${beamCheck[1]}; ${proxyCheck[1]}` : [beamCheck, proxyCheck].filter((c) => c[0] !== 'passing').map((c) => c[1]).join('; ');
    if (status !== lastReported || (status === 'critical' && line !== lastLine)) o.log(`health ${status}: ${line}`);
    lastReported = status;
    lastLine = line;
  };
  const heartbeat = setInterval(() => void report(), Math.max(1000, Math.floor(ttlMs / 3)));
  cleanups.push({ what: 'stop heartbeats', fn: () => clearInterval(heartbeat) });

  epmd.on('registered', (r: Registration) => {
    if (r.name !== alive) return;
    if (r.port !== ports.distPort) o.log(`warning: ${alive} registered port ${r.port}, expected ${ports.distPort}; is inet_dist_listen_min/max overridden?`);
    if (!beamUp && !steps.some((x) => x.startsWith('beam '))) {
      step('beam', beamStarted);
      o.log(`boot steps: ${steps.join(', ')} (total ${Date.now() - bootStarted} ms)`);
    }
    beamUp = true;
    void report();
  });
  epmd.on('unregistered', (r: Registration) => {
    if (r.name !== alive) return;
    beamUp = false;
    void report();
  });
  proxy.on('exit', () => {
    if (shuttingDown) return;
    proxyUp = false;
    void report();
  });
  proxy.on('spawn', () => {
    if (shuttingDown) return;
    waitProxyReady(ports, o.proxyKind, adminBind, o.readyTimeoutMs, proxy).then(
      () => {
        o.log(`proxy back (pid ${proxy.pid})`);
        proxyUp = true;
        void report();
      },
      (e) => o.log(`proxy not ready after restart: ${(e as Error).message}`),
    );
  });

  // 7. Until the BEAM exits or we are told to stop.
  return new Promise<number>((resolve) => {
    const finish = async (code: number) => {
      if (shuttingDown) return;
      shuttingDown = true;
      await cleanup();
      detach();
      o.log(`stopped; exit ${code}`);
      resolve(code);
    };
    beam.once('error', (e) => {
      o.log(`cannot start ${o.command[0]}: ${e.message}`);
      void finish(127);
    });
    beam.once('exit', (code, signal) => {
      const c = code ?? 128 + signalNumber(signal!);
      if (!shuttingDown) o.log(`${o.command[0]} exited (${signal ?? `code ${code}`})`);
      void finish(c);
    });
    const onStop = (sig: NodeJS.Signals) => {
      // An interactive BEAM (iex on a terminal) gets the terminal's SIGINT itself.
      if (sig === 'SIGINT' && process.stdin.isTTY) return;
      if (shuttingDown) return;
      o.log(`${sig}: stopping ${m.node}`);
      void stopChild(beam, o.stopTimeoutMs).then((c) => finish(c));
    };
    bootAbort = undefined;
    if (o.handleSignals ?? true) {
      process.off('SIGTERM', onBootSignal);
      process.off('SIGINT', onBootSignal);
      process.on('SIGTERM', onStop);
      process.on('SIGINT', onStop);
      cleanups.unshift({ what: 'signal handlers', fn: () => void (process.off('SIGTERM', onStop), process.off('SIGINT', onStop)) });
    }
  });

  function detach() {
    process.off('SIGTERM', onBootSignal);
    process.off('SIGINT', onBootSignal);
  }
}

/** The BEAM needs no Consul token: least privilege. */
function withoutTokens(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.CONSUL_HTTP_TOKEN;
  delete out.CONSUL_HTTP_TOKEN_FILE;
  return out;
}

/**
 * Waits until the proxy accepts on every upstream listener and its public listener (and, for
 * Envoy, reports LIVE on /ready, which can precede the listeners).
 */
export async function waitProxyReady(ports: ResolvedPorts, kind: ProxyKind, adminBind: string | undefined, timeoutMs: number, proxy: { restartCount: number }): Promise<void> {
  const until = Date.now() + timeoutMs;
  const targets = [...ports.upstreams.map((u) => ({ address: u.address, port: u.port, what: `upstream ${u.service}` })), { address: '127.0.0.1', port: ports.sidecarPort, what: 'public listener' }];
  let pending = targets;
  for (;;) {
    const results = await Promise.all(pending.map((t) => canConnect(t.address, t.port, 500)));
    pending = pending.filter((_, i) => !results[i]);
    let envoyLive = true;
    if (kind === ProxyKind.ENVOY && adminBind) {
      envoyLive = await fetch(`http://${adminBind}/ready`, { signal: AbortSignal.timeout(500) }).then((r) => r.status === 200, () => false);
    }
    if (pending.length === 0 && envoyLive) return;
    if (Date.now() > until) {
      const what = pending.map((t) => `${t.what} ${t.address}:${t.port}`).concat(envoyLive ? [] : [`envoy /ready on ${adminBind}`]);
      const restarts = proxy.restartCount ? ` (the proxy exited and was restarted ${proxy.restartCount} times; see its [proxy] lines)` : '';
      throw new RuntimeFailure(`proxy not ready within ${Math.round(timeoutMs / 1000)}s: nothing accepts on ${what.join(', ')}${restarts}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeFreePort } from '../../../lib/runtime/ports';
import { ResolvedPorts } from '../../../lib/runtime/registration';
import { RunOptions } from '../../../lib/runtime/run-options';
import { SidecarReadiness } from '../../../lib/runtime/steps/boot-step';
import { ProxyReadyStep, ProxyStep } from '../../../lib/runtime/steps/proxy-step';
import { isAlive, waitGone } from '../../../support/mesh-node';
import { poll } from '../../../support/wait';
import { picked, registered, runOptions, serving } from '../../fixtures/run-options';
import { validManifest } from '../../fixtures/manifests';

/** A proxy step over `ports`, its registration through the options' agent; EPMD routes recorded. */
function proxyStep(o: RunOptions, ports: ResolvedPorts, routes: unknown[] = []) {
  const register = registered(o, ports);
  const epmd = serving({ setPeers: (p: unknown) => void routes.push(p) });
  const sidecar = new SidecarReadiness();
  const step = new ProxyStep(o, { token: {}, ports: picked(ports), register, epmd, sidecar });
  return { step, registration: register.registration, sidecar };
}

/** The proxy step's start, the proxy's spawn (the proxy-ready step's), then its readiness. */
async function untilReady(step: ProxyStep, signal: AbortSignal): Promise<void> {
  await step.start();
  await step.spawn(signal);
  await step.ready;
}

/** A stand-in for `consul connect proxy`: node running `statements`, with the proxy's arguments. */
function standIn(file: string, ...statements: string[]): void {
  fs.writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" -e "${statements.join('; ')}" -- "$@"\n`, { mode: 0o755 });
}

describe('proxy step', () => {
  test('ready once the proxy itself listens on the upstream and public ports; preStop ends supervision; stop ends the proxy', async () => {
    const o = runOptions();
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    const { step, sidecar } = proxyStep(o, {
      distPort: 9100,
      sidecarPort: pub,
      upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
    });
    // A stand-in for `consul connect proxy`: the same pid binds the listeners, after a moment.
    const fake = path.join(path.dirname(o.stateDir.dir), 'consul');
    const listen = `n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0');`;
    standIn(fake, "const n = require('net')", `setTimeout(() => { ${listen} }, 200)`);
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 10000;
    let settled = false;
    void sidecar.settled.then(() => (settled = true));
    await step.start();
    // Set up, not spawned: nothing runs; the EPMD holds peer lookups.
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await step.spawn(new AbortController().signal);
    // Spawned, not ready yet: the EPMD still holds peer lookups.
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    await step.ready;
    await Promise.resolve();
    expect(settled).toBe(true);
    const pid = step.server.pid!;
    try {
      expect(o.logs).toContain(`proxy ready (builtin, pid ${pid})`);
      step.preStop();
      process.kill(pid, 'SIGKILL');
      expect(await waitGone([pid], 5000)).toBe(true);
      expect(step.server.restartCount).toBe(0);
    } finally {
      await step.stop();
    }
    expect(isAlive(pid)).toBe(false);
    expect(o.logs.filter((l) => /restarting/.test(l))).toEqual([]);
  });

  test('after a new login: registered again (the agent syncs with the new token), the proxy restarted to read it', async () => {
    const registrations: any[] = [];
    const o = runOptions({ agent: { baseUrl: 'http://127.0.0.1:1', registerService: async (d: any) => void registrations.push(d) } });
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    const ports = {
      distPort: 9100,
      sidecarPort: pub,
      upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
    };
    let renewed: () => Promise<void> = async () => undefined;
    const token = { tokenFile: o.stateDir.tokenPath, onRenewed: (then: () => Promise<void>) => void (renewed = then) };
    const epmd = serving({ setPeers: () => undefined });
    const step = new ProxyStep(o, { token, ports: picked(ports), register: registered(o, ports), epmd, sidecar: new SidecarReadiness() });
    const fake = path.join(path.dirname(o.stateDir.dir), 'consul');
    const listen = `n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0')`;
    standIn(fake, "const n = require('net')", listen);
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 10000;
    await untilReady(step, new AbortController().signal);
    const first = step.server.pid!;
    try {
      await renewed();
      expect(registrations.map((d) => [d.ID, d.Connect.SidecarService.Port])).toEqual([['shop-orders', pub]]);
      expect(o.logs).toContain('registered shop-orders again with the new token');
      expect(isAlive(first)).toBe(false);
      expect(step.server.pid).not.toBe(first);
      expect(step.server.running).toBe(true);
    } finally {
      await step.stop();
    }
  });

  test('agent TLS files read again: the proxy restarted to read them too (it loads them at its start only)', async () => {
    let reloaded: () => void = () => undefined;
    const o = runOptions({ agent: { baseUrl: 'https://127.0.0.1:1', onTlsReloaded: (then: () => void) => void (reloaded = then) } });
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    const { step } = proxyStep(o, {
      distPort: 9100,
      sidecarPort: pub,
      upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
    });
    const fake = path.join(path.dirname(o.stateDir.dir), 'consul');
    standIn(fake, "const n = require('net')", `n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0')`);
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 10000;
    await untilReady(step, new AbortController().signal);
    const first = step.server.pid!;
    try {
      reloaded();
      reloaded(); // two changes in a row: one restart after the other, never two proxies
      const restarted = await poll(() => step.server.pid !== first && step.server.running, (ok) => ok, { timeoutMs: 10_000 });
      expect(restarted.met).toBe(true);
      expect(isAlive(first)).toBe(false);
      expect(o.logs).toContain('restarting the proxy: it reads the agent TLS files only when it starts');
      expect(step.server.restartCount).toBe(0); // a stop and a start, not a crash restart
    } finally {
      await step.stop();
    }
    expect(isAlive(step.server.pid)).toBe(false);
  });

  test('a public port taken by another process after it was proven free: the sidecar moves and the proxy starts again', async () => {
    const up = await probeFreePort('127.0.0.2');
    // Someone else holds the port the agent gave the sidecar.
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '0.0.0.0', () => r()));
    const taken = (squatter.address() as net.AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-proxy-'));
    const portFile = path.join(dir, 'sidecar-port');
    fs.writeFileSync(portFile, String(taken));
    // A fake agent that keeps the sidecar port where the proxy reads its config (as the agent API).
    const agent = {
      baseUrl: 'http://127.0.0.1:1',
      registerService: async (def: any) => fs.writeFileSync(portFile, String(def.Connect.SidecarService.Port)),
      service: async () => ({ Port: Number(fs.readFileSync(portFile, 'utf8')), Address: '', Proxy: { Upstreams: [] } }),
    };
    const o = runOptions({ agent });
    const { step, registration } = proxyStep(o, {
      distPort: 9100,
      sidecarPort: taken,
      upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
    });
    const fake = path.join(dir, 'consul');
    // Like the built-in proxy: a listener that fails to bind is logged, the process stays up.
    standIn(
      fake,
      "const n = require('net')",
      `const p = Number(require('fs').readFileSync('${portFile}', 'utf8'))`,
      `for (const [port, host] of [[${up}, '127.0.0.2'], [p, '0.0.0.0']]) ` +
        "n.createServer().on('error', (e) => console.log('listen error ' + e.code)).listen(port, host)",
      'setInterval(() => undefined, 1000)',
    );
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 20000;
    const t0 = Date.now();
    try {
      await untilReady(step, new AbortController().signal);
      expect(Date.now() - t0).toBeLessThan(15000);
      expect(registration.ports.sidecarPort).not.toBe(taken);
      expect(o.logs).toContain(`the proxy cannot listen on 0.0.0.0:${taken} (public listener): another process holds that port; moving the sidecar`);
      expect(o.logs).toContain(`proxy ready (builtin, pid ${step.server.pid})`);
    } finally {
      await step.stop();
      squatter.close();
    }
  });

  test("an https agent: the proxy child gets the helper's TLS settings as the variables consul reads", async () => {
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-proxy-tls-'));
    const seen = path.join(dir, 'env.json');
    const agent = {
      baseUrl: 'https://127.0.0.1:8501',
      cliEnv: () => ({
        CONSUL_CACERT: '/etc/consul/ca.pem',
        CONSUL_CLIENT_CERT: '/etc/consul/cli.pem',
        CONSUL_CLIENT_KEY: '/etc/consul/cli-key.pem',
      }),
    };
    const o = runOptions({ agent });
    const { step } = proxyStep(o, {
      distPort: 9100,
      sidecarPort: pub,
      upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
    });
    const fake = path.join(dir, 'consul');
    standIn(
      fake,
      `require('fs').writeFileSync('${seen}', JSON.stringify({ env: process.env, argv: process.argv }))`,
      "const n = require('net')",
      `n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0')`,
    );
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 10000;
    try {
      await untilReady(step, new AbortController().signal);
      const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
      expect(got.env).toMatchObject(agent.cliEnv());
      expect(got.argv).toEqual(expect.arrayContaining(['-http-addr', 'https://127.0.0.1:8501']));
    } finally {
      await step.stop();
    }
  });

  test('an upstream port taken by another helper of the host after it was proven free: the upstream moves, EPMD follows', async () => {
    const pub = await probeFreePort('0.0.0.0');
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.2', () => r()));
    const taken = (squatter.address() as net.AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-proxy-up-'));
    const portFile = path.join(dir, 'upstream-port');
    fs.writeFileSync(portFile, String(taken));
    const agent = {
      baseUrl: 'http://127.0.0.1:1',
      registerService: async (def: any) => fs.writeFileSync(portFile, String(def.Connect.SidecarService.Proxy.Upstreams[0].LocalBindPort)),
    };
    const manifest = validManifest();
    (manifest.upstreams[0] as any).port = 0;
    const o = runOptions({ agent, manifest });
    const routes: any[] = [];
    const { step, registration } = proxyStep(
      o,
      { distPort: 9100, sidecarPort: pub, upstreams: [{ ...manifest.upstreams[0], address: '127.0.0.2', port: taken }] },
      routes,
    );
    const fake = path.join(dir, 'consul');
    standIn(
      fake,
      "const n = require('net')",
      `const p = Number(require('fs').readFileSync('${portFile}', 'utf8'))`,
      `for (const [port, host] of [[p, '127.0.0.2'], [${pub}, '0.0.0.0']]) n.createServer().on('error', () => undefined).listen(port, host)`,
      'setInterval(() => undefined, 1000)',
    );
    (o as any).consulBin = fake;
    (o as any).readyTimeoutMs = 20000;
    try {
      await untilReady(step, new AbortController().signal);
      const moved = registration.ports.upstreams[0].port;
      expect(moved).not.toBe(taken);
      expect(Number(fs.readFileSync(portFile, 'utf8'))).toBe(moved);
      expect(routes[0][0]).toMatchObject({ address: '127.0.0.2', port: moved });
      expect(o.logs.join('\n')).toMatch(/upstream listener 127\.0\.0\.2:\d+ .* is in use on this host; registering with \d+/);
    } finally {
      await step.stop();
      squatter.close();
    }
  });
  describe('a proxy that does not become ready', () => {
    /**
     * A stand-in that binds its upstream listener and, while `marker` holds a count below
     * `stuckStarts`, never its public listener (as the built-in proxy stuck at boot on Consul
     * 1.14.11); every start appends its pid to `marker`.
     */
    async function stuckProxy(stuckStarts: number, readyTimeoutMs: number) {
      const up = await probeFreePort('127.0.0.2');
      const pub = await probeFreePort('0.0.0.0');
      const o = runOptions();
      const { step } = proxyStep(o, {
        distPort: 9100,
        sidecarPort: pub,
        upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }],
      });
      const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-proxy-stuck-'));
      const starts = path.join(dir, 'starts');
      fs.writeFileSync(starts, '');
      const fake = path.join(dir, 'consul');
      standIn(
        fake,
        "const n = require('net'), fs = require('fs')",
        `const before = fs.readFileSync('${starts}', 'utf8').split(' ').filter(Boolean).length`,
        `fs.appendFileSync('${starts}', process.pid + ' ')`,
        `n.createServer().listen(${up}, '127.0.0.2')`,
        `if (before >= ${stuckStarts}) n.createServer().listen(${pub}, '0.0.0.0')`,
        'setInterval(() => undefined, 1000)',
      );
      (o as any).consulBin = fake;
      (o as any).readyTimeoutMs = readyTimeoutMs;
      const pids = () => fs.readFileSync(starts, 'utf8').split(' ').filter(Boolean).map(Number);
      return { o, step, pub, pids };
    }

    test('stuck the first time: killed at the end of its attempt and started again; the boot completes', async () => {
      // 15 s: three attempts of 5 s (the floor).
      const { o, step, pub, pids } = await stuckProxy(1, 15000);
      const t0 = Date.now();
      try {
        await untilReady(step, new AbortController().signal);
        // Not before the first attempt's 5 s ran out; one restart, not two.
        expect(Date.now() - t0).toBeGreaterThanOrEqual(5000);
        expect(o.logs.filter((l) => /restarting it/.test(l))).toHaveLength(1);
        expect(o.logs).toContain(`proxy not ready after 5s (attempt 1 of 3): nothing listens on public listener 0.0.0.0:${pub}; restarting it`);
        const [first, second] = pids();
        expect(pids()).toHaveLength(2);
        expect(isAlive(first)).toBe(false);
        expect(step.server.pid).toBe(second);
        expect(o.logs).toContain(`proxy ready (builtin, pid ${second})`);
        // The step's own restart is not an exit the supervisor restarted after.
        expect(step.server.restartCount).toBe(0);
      } finally {
        await step.stop();
      }
    }, 20000);

    test('stuck every time: the boot fails after the last attempt, within the ready timeout, with the message of before', async () => {
      const { o, step, pub, pids } = await stuckProxy(99, 15000);
      const t0 = Date.now();
      try {
        await expect(untilReady(step, new AbortController().signal)).rejects.toThrow(
          new Error(`proxy not ready within 15s: nothing listens on public listener 0.0.0.0:${pub}`),
        );
        // Not before the whole timeout ran out; no fourth start after it.
        expect(Date.now() - t0).toBeGreaterThanOrEqual(14500);
        expect(pids()).toHaveLength(3);
        expect(o.logs.filter((l) => /^proxy not ready after/.test(l))).toEqual([
          `proxy not ready after 5s (attempt 1 of 3): nothing listens on public listener 0.0.0.0:${pub}; restarting it`,
          `proxy not ready after 5s (attempt 2 of 3): nothing listens on public listener 0.0.0.0:${pub}; restarting it`,
        ]);
      } finally {
        await step.stop();
      }
      expect(await waitGone(pids(), 5000)).toBe(true);
    }, 25000);

    test('a ready timeout below two floors: one attempt, no restart', async () => {
      const { o, step, pub, pids } = await stuckProxy(99, 2000);
      try {
        await expect(untilReady(step, new AbortController().signal)).rejects.toThrow(
          `proxy not ready within 2s: nothing listens on public listener 0.0.0.0:${pub}`,
        );
        expect(pids()).toHaveLength(1);
        expect(o.logs.filter((l) => /restarting it/.test(l))).toEqual([]);
      } finally {
        await step.stop();
      }
    });

    test('the step stopped during the readiness wait (a later step failed): the wait ends at once, no proxy started after', async () => {
      const { step, pids } = await stuckProxy(99, 15000);
      await step.start();
      await step.spawn(new AbortController().signal);
      const ready = step.ready;
      ready.catch(() => undefined);
      const t0 = Date.now();
      while (pids().length < 1 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      expect(pids()).toHaveLength(1);
      await step.stop();
      await expect(ready).rejects.toThrow('proxy readiness: stopped');
      expect(Date.now() - t0).toBeLessThan(4500);
      expect(await waitGone(pids(), 5000)).toBe(true);
      // Past the first attempt's end (5 s): nothing started again.
      await new Promise((r) => setTimeout(r, 5500 - (Date.now() - t0)));
      expect(pids()).toHaveLength(1);
    }, 20000);

    test('a stop asked for during a later attempt ends the wait at once, with no further restart', async () => {
      const { o, step, pids } = await stuckProxy(99, 15000);
      const stop = new AbortController();
      const starting = untilReady(step, stop.signal);
      starting.catch(() => undefined);
      try {
        // Into the second attempt: the first proxy was killed and another started.
        const t0 = Date.now();
        while (pids().length < 2 && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 50));
        expect(pids()).toHaveLength(2);
        stop.abort();
        await expect(starting).rejects.toThrow('proxy readiness: stopped');
        // At once: the second attempt never reached its end.
        expect(o.logs.some((l) => /attempt 2 of 3/.test(l))).toBe(false);
        expect(pids()).toHaveLength(2);
        expect(o.logs.filter((l) => /restarting it/.test(l))).toHaveLength(1);
      } finally {
        await step.stop();
      }
      expect(await waitGone(pids(), 5000)).toBe(true);
    }, 20000);
  });
  test('a stop asked for before the spawn: no proxy, and the EPMD stops holding peer lookups', async () => {
    const o = runOptions();
    const { step, sidecar } = proxyStep(o, { distPort: 9100, sidecarPort: 1, upstreams: [] });
    const stop = new AbortController();
    stop.abort();
    await step.start();
    await step.spawn(stop.signal);
    await sidecar.settled;
    expect(() => step.ready).toThrow("boot step 'proxy-ready' has not started");
    await step.stop();
  });
});

describe('proxy-ready step', () => {
  test("spawns the proxy, then awaits its readiness, timed from its spawn; the BEAM's files written again only when a port moved", async () => {
    const writes: string[] = [];
    const liveFiles = { write: () => void writes.push('write') };
    const spawned: string[] = [];
    const proxy = (ready: Promise<void>, portsMoved: boolean, readyMs?: number) => ({
      spawn: async () => void spawned.push('spawn'),
      ready,
      readyMs,
      portsMoved,
    });
    const signal = new AbortController().signal;
    const still = new ProxyReadyStep(proxy(Promise.resolve(), false, 120), { liveFiles });
    await still.start(signal);
    expect(spawned).toEqual(['spawn']);
    expect(still.tookMs).toBe(120);
    expect(writes).toEqual([]);
    await new ProxyReadyStep(proxy(Promise.resolve(), true, 900), { liveFiles }).start(signal);
    expect(writes).toEqual(['write']);
    const failed = new ProxyReadyStep(proxy(Promise.reject(new Error('proxy not ready within 2s')), true), { liveFiles });
    await expect(failed.start(signal)).rejects.toThrow('proxy not ready within 2s');
    expect(writes).toEqual(['write']);
  });
});

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeFreePort } from '../../../lib/runtime/ports';
import { proxyStep } from '../../../lib/runtime/steps/proxy-step';
import { isAlive, waitGone } from '../../../support/mesh-node';
import { bootContext } from '../../fixtures/context';
import { validManifest } from '../../fixtures/manifests';

describe('proxy step', () => {
  test('ready once the proxy itself listens on the upstream and public ports; preStop ends supervision; stop ends the proxy', async () => {
    const ctx = bootContext();
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: pub, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }] };
    // A stand-in for `consul connect proxy`: the same pid binds the listeners, after a moment.
    const fake = path.join(path.dirname(ctx.o.stateDir.dir), 'consul');
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" -e "const n = require('net'); setTimeout(() => { n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0'); }, 200)"\n`, { mode: 0o755 });
    (ctx.o as any).consulBin = fake;
    (ctx.o as any).readyTimeoutMs = 10000;
    await proxyStep.start(ctx);
    const pid = ctx.proxy!.pid!;
    try {
      expect(ctx.logs).toContain(`proxy ready (builtin, pid ${pid})`);
      proxyStep.preStop!(ctx);
      process.kill(pid, 'SIGKILL');
      expect(await waitGone([pid], 5000)).toBe(true);
      expect(ctx.proxy!.restartCount).toBe(0);
    } finally {
      await proxyStep.stop(ctx);
    }
    expect(isAlive(pid)).toBe(false);
    expect(ctx.logs.filter((l) => /restarting/.test(l))).toEqual([]);
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
    const ctx = bootContext({ agent });
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: taken, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }] };
    const fake = path.join(dir, 'consul');
    // Like the built-in proxy: a listener that fails to bind is logged, the process stays up.
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" -e "const n = require('net'); const p = Number(require('fs').readFileSync('${portFile}', 'utf8')); for (const [port, host] of [[${up}, '127.0.0.2'], [p, '0.0.0.0']]) n.createServer().on('error', (e) => console.log('listen error ' + e.code)).listen(port, host); setInterval(() => undefined, 1000)"\n`, { mode: 0o755 });
    (ctx.o as any).consulBin = fake;
    (ctx.o as any).readyTimeoutMs = 20000;
    const t0 = Date.now();
    try {
      await proxyStep.start(ctx);
      expect(Date.now() - t0).toBeLessThan(15000);
      expect(ctx.ports.sidecarPort).not.toBe(taken);
      expect(ctx.logs).toContain(`the proxy cannot listen on 0.0.0.0:${taken} (public listener): another process holds that port; moving the sidecar`);
      expect(ctx.logs).toContain(`proxy ready (builtin, pid ${ctx.proxy!.pid})`);
    } finally {
      await proxyStep.stop(ctx);
      squatter.close();
    }
  });

  test('an https agent: the proxy child gets the helper\'s TLS settings as the variables consul reads', async () => {
    const up = await probeFreePort('127.0.0.2');
    const pub = await probeFreePort('0.0.0.0');
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-proxy-tls-'));
    const seen = path.join(dir, 'env.json');
    const agent = { baseUrl: 'https://127.0.0.1:8501', cliEnv: () => ({ CONSUL_CACERT: '/etc/consul/ca.pem', CONSUL_CLIENT_CERT: '/etc/consul/cli.pem', CONSUL_CLIENT_KEY: '/etc/consul/cli-key.pem' }) };
    const ctx = bootContext({ agent });
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: pub, upstreams: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing', address: '127.0.0.2', port: up }] };
    const fake = path.join(dir, 'consul');
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" -e "require('fs').writeFileSync('${seen}', JSON.stringify({ env: process.env, argv: process.argv })); const n = require('net'); n.createServer().listen(${up}, '127.0.0.2'); n.createServer().listen(${pub}, '0.0.0.0')" -- "$@"\n`, { mode: 0o755 });
    (ctx.o as any).consulBin = fake;
    (ctx.o as any).readyTimeoutMs = 10000;
    try {
      await proxyStep.start(ctx);
      const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
      expect(got.env).toMatchObject(agent.cliEnv());
      expect(got.argv).toEqual(expect.arrayContaining(['-http-addr', 'https://127.0.0.1:8501']));
    } finally {
      await proxyStep.stop(ctx);
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
    const agent = { baseUrl: 'http://127.0.0.1:1', registerService: async (def: any) => fs.writeFileSync(portFile, String(def.Connect.SidecarService.Proxy.Upstreams[0].LocalBindPort)) };
    const manifest = validManifest();
    (manifest.upstreams[0] as any).port = 0;
    const ctx = bootContext({ agent, manifest });
    const routes: any[] = [];
    (ctx as any).epmd = { setPeers: (p: any) => routes.push(p) };
    ctx.ports = { epmdPort: 4370, distPort: 9100, sidecarPort: pub, upstreams: [{ ...manifest.upstreams[0], address: '127.0.0.2', port: taken }] };
    const fake = path.join(dir, 'consul');
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" -e "const n = require('net'); const p = Number(require('fs').readFileSync('${portFile}', 'utf8')); for (const [port, host] of [[p, '127.0.0.2'], [${pub}, '0.0.0.0']]) n.createServer().on('error', () => undefined).listen(port, host); setInterval(() => undefined, 1000)"\n`, { mode: 0o755 });
    (ctx.o as any).consulBin = fake;
    (ctx.o as any).readyTimeoutMs = 20000;
    try {
      await proxyStep.start(ctx);
      const moved = ctx.ports.upstreams[0].port;
      expect(moved).not.toBe(taken);
      expect(Number(fs.readFileSync(portFile, 'utf8'))).toBe(moved);
      expect(routes[0][0]).toMatchObject({ address: '127.0.0.2', port: moved });
      expect(ctx.logs.join('\n')).toMatch(/upstream listener 127\.0\.0\.2:\d+ .* is in use on this host; registering with \d+/);
    } finally {
      await proxyStep.stop(ctx);
      squatter.close();
    }
  });
});

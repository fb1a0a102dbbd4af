// `meshx-node run` end to end: a real Consul 1.8 dev agent, real built-in sidecar proxies, real
// erl and iex nodes, booted from what the examples synthesize. Nothing here is mocked.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { IntentionsMode } from '../../lib';
import { ReleaseClusterStack } from '../../examples/release-cluster/stack';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { setIntention } from '../../support/intentions';
import { deploySynth } from '../../support/terraform';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { BIN, isAlive, MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { listeningSockets } from '../../lib/runtime/proxy/listeners';
import { which } from '../../lib/runtime/child';

jest.setTimeout(180_000);

const COOKIE = 'integration-cookie-' + Math.random().toString(36).slice(2);

describe('meshx-node run with real Consul, proxies and BEAM nodes', () => {
  let agent: DevAgent;
  const nodes: MeshNode[] = [];
  const boot = async (o: Parameters<typeof MeshNode.start>[0]) => {
    const n = await MeshNode.start(o);
    nodes.push(n);
    return n;
  };

  beforeAll(async () => {
    agent = await DevAgent.start();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
    await agent?.stop();
  });

  describe('two-nodes example', () => {
    let outdir: string;
    beforeAll(async () => {
      const synth = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
      outdir = synth.outdir;
      await deploySynth(outdir, 'two-nodes', agent);
    });

    test('two erl -name nodes: ping is pong and rpc:call returns the remote node name', async () => {
      const [orders, billing] = await Promise.all([
        boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE }),
        boot({ from: outdir, node: 'billing@billing-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE }),
      ]);
      await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing']);
      expect(await orders.ping('billing@billing-1.shop.test')).toBe('pong');
      expect(await orders.eval('rpc:call(list_to_atom("billing@billing-1.shop.test"), erlang, node, [])')).toBe("'billing@billing-1.shop.test'");
      expect(await billing.eval('nodes()')).toBe("['orders@orders-1.shop.test']");
      // Both services pass their TTL check on the agent.
      expect(await agent.api.serviceHealth('shop-orders')).toBe('passing');
      expect(await agent.api.serviceHealth('shop-billing')).toBe('passing');
    });

    test("a BEAM that pings a peer at once gets pong: its lookup waits for the proxy's upstream listener", async () => {
      // The proxy comes up a second late (its boot overlaps the BEAM's): without the EPMD holding
      // peer lookups until it is ready, the first dial meets no listener and the ping is pang.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-slowproxy-'));
      try {
        const slowConsul = path.join(dir, 'consul');
        fs.writeFileSync(slowConsul, `#!/bin/sh\nsleep 1\nexec "${which('consul')}" "$@"\n`, { mode: 0o755 });
        await boot({ from: outdir, node: 'billing@billing-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE });
        await waitDiscoverable(agent.api, ['shop-billing']);
        const firstPing = 'io:format("first ping: ~p~n", [net_adm:ping(\'billing@billing-1.shop.test\')])';
        const orders = await boot({
          from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE,
          beamArgs: ['-eval', firstPing], extraRunArgs: ['--consul-bin', slowConsul],
        });
        expect((await orders.waitForLog(/first ping: (\w+)/, 15000))[1]).toBe('pong');
        const at = (line: string) => orders.output.indexOf(line);
        // The BEAM started before the proxy was ready, and its ping was answered after.
        expect(at('started erl')).toBeGreaterThanOrEqual(0);
        expect(at('started erl')).toBeLessThan(at('proxy ready'));
        expect(at('first ping')).toBeGreaterThan(at('proxy ready'));
        expect(await agent.api.serviceHealth('shop-orders')).toBe('passing');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an Elixir iex --name node and an erl node connect', async () => {
      const [orders, billing] = await Promise.all([
        boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE }),
        boot({ from: outdir, node: 'billing@billing-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE, shell: 'iex' }),
      ]);
      await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing']);
      expect(await billing.ping('orders@orders-1.shop.test')).toBe('pong');
      expect(await billing.eval(':rpc.call(:"orders@orders-1.shop.test", :erlang, :node, [])')).toBe(':"orders@orders-1.shop.test"');
      expect(await orders.eval('nodes()')).toBe("['billing@billing-1.shop.test']");
    });

    test('the distribution port listens on loopback only and is unreachable elsewhere', async () => {
      const orders = await boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE });
      const distPort = Number(orders.output.match(/dist 127\.0\.0\.1:(\d+)/)![1]);
      const epmdPort = Number(orders.output.match(/epmd :(\d+)/)![1]);
      // From the kernel's socket table: every listener on these ports is bound to 127.0.0.x.
      const listeners = listeningSockets();
      const dist = listeners.filter((l) => l.port === distPort);
      const epmd = listeners.filter((l) => l.port === epmdPort);
      expect(dist.map((l) => l.address)).toEqual(['127.0.0.1']);
      expect(epmd.length).toBeGreaterThanOrEqual(2);
      for (const l of [...dist, ...epmd]) expect(l.address).toMatch(/^127\./);
      // And a connection on any non-loopback address of this machine is refused.
      for (const address of nonLoopbackAddresses()) {
        expect(await connects(address, distPort)).toBe(false);
        expect(await connects(address, epmdPort)).toBe(false);
      }
      expect(await connects('127.0.0.1', distPort)).toBe(true);
    });

    test('a second BEAM on the host (a remote console) reaches the node through `meshx-node env`', async () => {
      const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-env-'));
      const orders = await boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE, stateDir });
      const env = spawnSync(process.execPath, [BIN, 'env', '--state-dir', stateDir, '--format', 'json'], { encoding: 'utf8' });
      expect(env.status).toBe(0);
      const vars = JSON.parse(env.stdout);
      expect(Object.keys(vars).sort()).toEqual(['ERL_AFLAGS', 'ERL_EPMD_PORT', 'ERL_INETRC', 'MESHX_NODE_NAME']);
      // As `bin/app remote` would: a hidden node on the same host, same cookie.
      const remote = spawnSync(
        'erl',
        [
          '-name', 'console@orders-1.shop.test', '-hidden', '-setcookie', COOKIE, '-noshell', '-eval',
          'io:format("~p~n", [rpc:call(list_to_atom(os:getenv("MESHX_NODE_NAME")), erlang, node, [])]), halt().', ],
        { env: { ...process.env, ...vars }, encoding: 'utf8', timeout: 30000 },
      );
      expect(remote.stdout.trim()).toBe("'orders@orders-1.shop.test'");
      // It registered with the helper's EPMD like a release's remote console does, and left.
      expect(orders.output).not.toMatch(/refused a second registration/);
      const sh = spawnSync(process.execPath, [BIN, 'env', '--state-dir', stateDir], { encoding: 'utf8' });
      expect(sh.stdout).toContain(`export ERL_EPMD_PORT='${vars.ERL_EPMD_PORT}'`);
    });

    test('a healthy boot logs no errors: the readiness probe makes no proxy dial a peer or the BEAM', async () => {
      // orders boots while billing is not there: a probe that connected to orders' upstream
      // listener would make its proxy dial billing and log "failed to dial: no healthy instances".
      const orders = await boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE });
      const billing = await boot({ from: outdir, node: 'billing@billing-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE });
      await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing']);
      expect(await orders.ping('billing@billing-1.shop.test')).toBe('pong');
      for (const n of [orders, billing]) {
        expect(await n.stop('SIGTERM')).toBe(0);
        const running = n.output.slice(0, n.output.indexOf('SIGTERM: stopping'));
        const proxyLines = running.split('\n').filter((l) => l.includes('[proxy]'));
        expect(proxyLines.length).toBeGreaterThan(0);
        expect(proxyLines.filter((l) => /failed to dial|\[ERROR\]|error/i.test(l))).toEqual([]);
        expect(running.split('\n').filter((l) => /\[helper\].*(error|failed)/i.test(l))).toEqual([]);
      }
    });

    test('SIGTERM to the helper: service and sidecar deregistered, no proxy or BEAM left, exit 0', async () => {
      const orders = await boot({ from: outdir, node: 'orders@orders-1.shop.test', consulAddr: agent.httpAddr, cookie: COOKIE });
      const proxyPid = orders.pidOf('proxy');
      const beamPid = orders.pidOf('beam');
      expect(isAlive(proxyPid)).toBe(true);
      expect(isAlive(beamPid)).toBe(true);
      expect(await agent.api.service('shop-orders')).toBeDefined();
      expect(await agent.api.service('shop-orders-sidecar-proxy')).toBeDefined();
      expect(await orders.stop('SIGTERM')).toBe(0);
      expect(await agent.api.service('shop-orders')).toBeUndefined();
      expect(await agent.api.service('shop-orders-sidecar-proxy')).toBeUndefined();
      expect(await waitGone([proxyPid, beamPid], 5000)).toBe(true);
    });
  });

  describe('release-cluster example: three nodes all named app@<host>', () => {
    let outdir: string;
    const names = ['app@app-1.cluster.test', 'app@app-2.cluster.test', 'app@app-3.cluster.test'];
    let cluster: MeshNode[];

    beforeAll(async () => {
      const synth = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster', { acl: false }));
      outdir = synth.outdir;
      await deploySynth(outdir, 'release-cluster', agent);
    });

    test('full mesh: every node pings both others; a deny intention on one pair gives pang for that pair only', async () => {
      cluster = await Promise.all(names.map((node) => boot({ from: outdir, node, consulAddr: agent.httpAddr, cookie: COOKIE })));
      await waitDiscoverable(agent.api, ['release-app1', 'release-app2', 'release-app3']);
      for (const [i, n] of cluster.entries()) {
        for (const [j, peer] of names.entries()) if (i !== j) expect([n.name, peer, await n.ping(peer)]).toEqual([n.name, peer, 'pong']);
      }
      for (const n of cluster) expect(JSON.parse(`[${(await n.eval('length(nodes())'))}]`)[0]).toBe(2);

      // Deny app-1 -> app-2 (both directions of dialling), then force fresh connections.
      await setIntention(agent.api, 'release-app1', 'release-app2', 'deny');
      await setIntention(agent.api, 'release-app2', 'release-app1', 'deny');
      const [a1, a2, a3] = cluster;
      await a2.eval('erlang:disconnect_node(list_to_atom("app@app-1.cluster.test"))');
      expect(await a1.pingUntil(names[1], 'pang')).toBe('pang');
      expect(await a2.pingUntil(names[0], 'pang')).toBe('pang');
      // The other pairs still talk.
      expect(await a1.ping(names[2])).toBe('pong');
      expect(await a3.ping(names[1])).toBe('pong');
      expect(await a2.ping(names[2])).toBe('pong');
    });
  });
});

function nonLoopbackAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal && i.family === 'IPv4').map((i) => i!.address);
}

function connects(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

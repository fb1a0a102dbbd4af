// proxyConfig end to end on Consul 1.8.7's built-in proxy: the construct's value reaches the
// agent's sidecar registration through the manifest and the helper, and the proxy obeys it.
// What shows it: local_connect_timeout_ms, how long the proxy waits to reach the node's local
// listener. The command stands in for a BEAM that listens but never accepts (its backlog full),
// so each connection to the sidecar's public port ends when that timeout fires.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { DevAgent } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { cli } from '../fixtures/cli';

jest.setTimeout(120_000);

const QUICK = 'quick@pc-1.test';
const PLAIN = 'plain@pc-2.test';
/** Listens on the dist port with a full backlog and never accepts: a dial to it hangs. */
const CLOG = [
  'python3', '-c',
  'import os, socket, time\n'
    + "p = int(os.environ['MESHX_DIST_PORT'])\n"
    + 'b = socket.socket(); b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n'
    + "b.bind(('127.0.0.1', p)); b.listen(0)\n"
    + 'fill = [socket.socket() for _ in range(4)]\n'
    + "for c in fill: c.setblocking(False); c.connect_ex(('127.0.0.1', p))\n"
    + "print('clogged', p, flush=True)\n"
    + 'time.sleep(600)\n',
];

/** How long (ms) the sidecar's public listener holds a connection that sends nothing before closing it. */
function heldFor(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let at = 0;
    s.once('connect', () => (at = Date.now()));
    s.on('data', () => undefined);
    s.once('error', reject);
    s.once('close', () => (at ? resolve(Date.now() - at) : reject(new Error('not connected'))));
    s.setTimeout(10_000, () => s.destroy(new Error('still open after 10 s')));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('proxyConfig reaches the sidecar registration and the built-in proxy', () => {
  let agent: DevAgent;
  let outdir: string;
  const nodes: MeshNode[] = [];

  beforeAll(async () => {
    agent = await DevAgent.start();
    ({ outdir } = synthToDir((app) => {
      const stack = new TerraformStack(app, 'proxy-config');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'pc', intentionsMode: IntentionsMode.LEGACY, acl: false, proxy: ProxyKind.BUILTIN });
      mesh.addNode('Quick', { nodeName: QUICK, proxyConfig: { local_connect_timeout_ms: 200, handshake_timeout_ms: 2500 } });
      mesh.addNode('Plain', { nodeName: PLAIN });
      return stack;
    }));
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
  });
  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
    await agent?.stop();
  });

  const boot = async (node: string) => {
    const n = await MeshNode.start({
      from: outdir, node, consulAddr: agent.httpAddr, cookie: 'unused', command: CLOG, waitFor: 'nothing',
      extraRunArgs: ['--ready-timeout', '120'],
    });
    nodes.push(n);
    await n.waitForLog(/proxy ready/, 60_000);
    await n.waitForLog(/clogged \d+/, 30_000);
    return n;
  };

  test('the keys are in the agent\'s sidecar registration, and local_connect_timeout_ms takes effect', async () => {
    await boot(QUICK);
    await boot(PLAIN);
    const quick = await agent.api.service<any>('pc-quick-sidecar-proxy');
    expect(quick.Proxy.Config).toMatchObject({ local_connect_timeout_ms: 200, handshake_timeout_ms: 2500 });
    expect(quick.Proxy.LocalServiceAddress).toBe('127.0.0.1');
    const plain = await agent.api.service<any>('pc-plain-sidecar-proxy');
    expect(plain.Proxy.Config ?? {}).not.toHaveProperty('local_connect_timeout_ms');

    const quickMs: number[] = [];
    const plainMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      quickMs.push(await heldFor(quick.Port));
      plainMs.push(await heldFor(plain.Port));
    }
    // 200 ms configured; the proxy's default is 1000 ms (a timer never fires early).
    expect(median(quickMs)).toBeGreaterThanOrEqual(150);
    expect(median(quickMs)).toBeLessThan(900);
    expect(median(plainMs)).toBeGreaterThanOrEqual(950);
    const log = nodes[0].output;
    expect(log).toMatch(/failed to dial.*i\/o timeout/);
  });

  test('a manifest naming a key the helper owns is refused before anything is registered (exit 2)', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'proxy-config', 'cdk.tf.json'), 'utf8'));
    const key = Object.values<any>(manifest.resource.consul_keys).flatMap((r) => r.key).find((k: any) => k.path.endsWith('/pc-plain'));
    const bad = { ...JSON.parse(key.value), sidecar: { port: 0, proxy: 'builtin', config: { bind_address: '127.0.0.1' } } };
    const file = path.join(outdir, 'bad-manifest.json');
    fs.writeFileSync(file, JSON.stringify(bad));
    const r = await cli(['run', '--manifest', file, '--consul-addr', agent.httpAddr, '--', 'erl'], { PATH: process.env.PATH });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/manifest field 'sidecar\.config\.bind_address' is set by meshx-node, not the manifest/);
    expect(await agent.api.service('pc-plain')).toBeUndefined();
  });
});

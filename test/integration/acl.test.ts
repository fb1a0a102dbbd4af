// Least privilege with ACLs on (default deny): the synthesized policies and tokens deployed to a
// real agent through the Terraform Consul provider, each node booted with its own token.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { ConsulAgent } from '../../lib/runtime/consul/agent';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth, writeTokenFile } from '../../support/terraform';

jest.setTimeout(240_000);

const COOKIE = 'acl-cookie-' + Math.random().toString(36).slice(2);
const A = 'alpha@alpha-1.sec.test';
const B = 'beta@beta-1.sec.test';
const C = 'gamma@gamma-1.sec.test';

describe('ACLs on, default deny', () => {
  const master = randomUUID();
  let agent: DevAgent;
  let tokens: Record<string, string>;
  let secrets: string[];
  let outdir: string;
  let stackJson: any;
  let dir: string;
  const nodes: MeshNode[] = [];
  const tokenFile = (svc: string) => path.join(dir, `${svc}.token`);

  beforeAll(async () => {
    agent = await DevAgent.start({ aclMasterToken: master });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-acl-'));
    ({ outdir, stackJson } = synthToDir((app) => {
      const stack = new TerraformStack(app, 'sec');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'sec', intentionsMode: IntentionsMode.LEGACY, proxy: ProxyKind.BUILTIN });
      const a = mesh.addNode('Alpha', { nodeName: A });
      const b = mesh.addNode('Beta', { nodeName: B });
      mesh.addNode('Gamma', { nodeName: C }); // connected to nobody
      mesh.connect(a, b);
      return stack;
    }));
    const deployed = await deploySynth(outdir, 'sec', agent);
    tokens = await deployed.tokenAccessors();
    for (const [svc, accessor] of Object.entries(tokens)) await writeTokenFile(agent.api, accessor, tokenFile(svc));
    secrets = Object.keys(tokens).map((svc) => fs.readFileSync(tokenFile(svc), 'utf8').trim());
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('one token per node, created by the provider from the synthesized resources', () => {
    expect(Object.keys(tokens).sort()).toEqual(['sec-alpha', 'sec-beta', 'sec-gamma']);
    expect(new Set(secrets).size).toBe(3);
  });

  test('each node boots from its own manifest key with its own token, and the mesh works', async () => {
    const started = await Promise.all([
      MeshNode.start({
        kv: 'meshx/sec/nodes/sec-alpha',
        node: A,
        consulAddr: agent.httpAddr,
        cookie: COOKIE,
        tokenFile: tokenFile('sec-alpha'),
        stateDir: path.join(dir, 'state-alpha'),
      }),
      MeshNode.start({
        kv: 'meshx/sec/nodes/sec-beta',
        node: B,
        consulAddr: agent.httpAddr,
        cookie: COOKIE,
        tokenFile: tokenFile('sec-beta'),
        stateDir: path.join(dir, 'state-beta'),
      }),
    ]);
    nodes.push(...started);
    await waitDiscoverable(agent.api, ['sec-alpha', 'sec-beta']);
    expect(await started[0].ping(B)).toBe('pong');
    expect(await started[1].ping(A)).toBe('pong');
  });

  test("a node's token cannot register another node's service nor read another node's manifest", async () => {
    const alpha = new ConsulAgent({ address: agent.httpAddr, token: fs.readFileSync(tokenFile('sec-alpha'), 'utf8').trim() });
    const asBeta = await alpha.request('PUT', '/v1/agent/service/register', { ID: 'sec-beta', Name: 'sec-beta', Port: 1 });
    expect(asBeta.status).toBe(403);
    const other = await alpha.request('GET', '/v1/kv/meshx/sec/nodes/sec-beta?raw');
    expect(other.status).toBe(403);
    const own = await alpha.request('GET', '/v1/kv/meshx/sec/nodes/sec-alpha?raw');
    expect(own.status).toBe(200);
    const listing = await alpha.request('GET', '/v1/kv/meshx/?keys');
    expect(listing.status === 403 || !listing.text.includes('sec-beta')).toBe(true);
    // Nor write intentions, nor mint tokens.
    expect(
      (
        await alpha.request('POST', '/v1/connect/intentions', {
          SourceName: 'sec-gamma',
          DestinationName: 'sec-alpha',
          SourceType: 'consul',
          Action: 'allow',
        })
      ).status,
    ).toBe(403);
    expect((await alpha.request('PUT', '/v1/acl/token', { Description: 'x' })).status).toBe(403);
    // Its own registration stays in place.
    expect(await agent.api.service('sec-alpha')).toBeDefined();
  });

  test('default deny: a node with no declared connection gets pang, even with a hand-made upstream', async () => {
    // gamma tampers with its own manifest to dial alpha; its token may register that.
    const manifest = JSON.parse((await agent.api.kvGet('meshx/sec/nodes/sec-gamma'))!);
    manifest.upstreams = [{ node: A, service: 'sec-alpha', address: '127.0.0.2', port: 0 }];
    const file = path.join(dir, 'gamma-rogue.json');
    fs.writeFileSync(file, JSON.stringify(manifest));
    const gamma = await MeshNode.start({
      manifestFile: file,
      node: C,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      tokenFile: tokenFile('sec-gamma'),
      stateDir: path.join(dir, 'state-gamma'),
    });
    nodes.push(gamma);
    await waitDiscoverable(agent.api, ['sec-gamma']);
    expect(await gamma.ping(A)).toBe('pang');
    const alpha = nodes.find((n) => n.name === A)!;
    await alpha.waitForLog(/authz call denied|unauthorized/i, 10000);
    // alpha, connected to beta only, has no route to gamma at all.
    expect(await alpha.ping(C)).toBe('pang');
  });

  test('no token secret and no cookie in synthesized JSON, manifests, state-dir files or helper logs', () => {
    const all = [master, COOKIE, ...secrets];
    const haystacks: Array<[string, string]> = [['synthesized JSON', JSON.stringify(stackJson)]];
    // What cdktf wrote; Terraform's own working files (.terraform, state) are not synth output.
    for (const f of fs.readdirSync(outdir, { recursive: true }) as string[]) {
      if (f.split(path.sep).includes('.terraform') || /\.tfstate|\.terraform\.lock\.hcl$/.test(f)) continue;
      const p = path.join(outdir, f);
      if (fs.statSync(p).isFile()) haystacks.push([`synth file ${f}`, fs.readFileSync(p, 'utf8')]);
    }
    for (const state of ['state-alpha', 'state-beta', 'state-gamma']) {
      const d = path.join(dir, state);
      expect(fs.readdirSync(d).sort()).toEqual(['helper.pid', 'hosts', 'inetrc', 'peers', 'state.json', 'upstreams.env']);
      for (const f of fs.readdirSync(d)) haystacks.push([`${state}/${f}`, fs.readFileSync(path.join(d, f), 'utf8')]);
    }
    for (const n of nodes) haystacks.push([`logs of ${n.name}`, n.output.split('\n').filter((l) => l.startsWith('[')).join('\n')]);
    expect(haystacks.length).toBeGreaterThan(10);
    for (const [where, text] of haystacks) for (const s of all) expect([where, text.includes(s)]).toEqual([where, false]);
  });
});

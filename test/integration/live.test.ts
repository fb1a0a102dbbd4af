// Live topology end to end: three running nodes follow a deploy that adds a fourth, adds an edge
// between two of them and removes another, without restarting a helper or a BEAM; a bad version
// is refused and the node stays on the last good one. Real Consul 1.8, built-in proxies, erl.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { keyOf, LiveVersion, publishVersion, serviceOfNode, synthLiveVersion } from '../../support/live-mesh';
import { BIN, isAlive, MeshNode } from '../../support/mesh-node';
import { NodeState } from '../../lib/runtime/state-dir';

jest.setTimeout(300_000);

const COOKIE = 'live-cookie-' + Math.random().toString(36).slice(2);
const ALPHA = 'alpha@alpha-1.live.test';
const BETA = 'beta@beta-1.live.test';
const GAMMA = 'gamma@gamma-1.live.test';
const DELTA = 'delta@delta-1.live.test';

// v1: alpha-beta, beta-gamma. v2: delta joins (edges to all three), alpha-gamma is new,
// beta-gamma goes. Positional synth addresses move in v2 (beta's delta gets gamma's old one).
const V1 = { nodes: [ALPHA, BETA, GAMMA], edges: [[ALPHA, BETA], [BETA, GAMMA]] as Array<[string, string]> };
const V2 = {
  nodes: [ALPHA, BETA, GAMMA, DELTA],
  edges: [
    [ALPHA, BETA],
    [ALPHA, GAMMA],
    [ALPHA, DELTA],
    [BETA, DELTA],
    [GAMMA, DELTA],
  ] as Array<[string, string]>,
};

/** The first match of `re` in what the node logged after `mark` characters (bounded wait). */
async function logSince(node: MeshNode, mark: number, re: RegExp, timeoutMs = 30000): Promise<RegExpMatchArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = node.output.slice(mark).match(re);
    if (m) return m;
    if (Date.now() > until) throw new Error(`${node.name}: no ${re} within ${timeoutMs} ms; output:\n${node.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readState = (dir: string): NodeState => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));

describe('live topology: running nodes follow a deploy without restart', () => {
  let agent: DevAgent;
  let v1: LiveVersion;
  let v2: LiveVersion;
  const nodes = new Map<string, MeshNode>();
  const dirs = new Map<string, string>();
  const tmp = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-live-'));

  const boot = async (node: string, v: LiveVersion) => {
    const stateDir = path.join(tmp, node.split('@')[0]);
    dirs.set(node, stateDir);
    // Not a full mesh: without connect_all false, OTP 25's global would connect transitively and
    // cut connections 'to prevent overlapping partitions' (README limits), seen here.
    const n = await MeshNode.start({
      kv: keyOf(v, node),
      node,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      stateDir,
      beamArgs: ['-connect_all', 'false'],
    });
    nodes.set(node, n);
    return n;
  };
  const n = (node: string) => nodes.get(node)!;

  beforeAll(async () => {
    agent = await DevAgent.start();
    v1 = synthLiveVersion('live', V1);
    v2 = synthLiveVersion('live', V2);
    await publishVersion(agent.api, v1);
    await Promise.all(V1.nodes.map((node) => boot(node, v1)));
    await waitDiscoverable(agent.api, V1.nodes.map((node) => serviceOfNode(v1, node)));
  });

  afterAll(async () => {
    await Promise.all([...nodes.values()].map((x) => x.stop('SIGTERM')));
    await agent?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('v1 as deployed: alpha-beta and beta-gamma pong; alpha-gamma has no route', async () => {
    expect(await n(ALPHA).pingUntil(BETA, 'pong')).toBe('pong');
    expect(await n(BETA).pingUntil(GAMMA, 'pong')).toBe('pong');
    expect(await n(ALPHA).ping(GAMMA)).toBe('pang');
    for (const node of V1.nodes) expect(n(node).output).toMatch(/watching kv:\S+ for new manifest versions/);
  });

  describe('after a deploy adding delta, the edge alpha-gamma, and removing beta-gamma', () => {
    const before = new Map<string, { helper: number; beam: number; proxy: number; state: NodeState }>();
    let betaNodesAfterDeploy = '';
    const healthAfterApply: Array<string | undefined> = [];

    beforeAll(async () => {
      for (const node of V1.nodes)
        before.set(node, {
          helper: n(node).helperPid,
          beam: n(node).pidOf('beam')!,
          proxy: n(node).pidOf('proxy')!,
          state: readState(dirs.get(node)!),
        });
      await publishVersion(agent.api, v2, v1);
      await Promise.all(V1.nodes.map((node) => n(node).waitForLog(/manifest version \d+ applied/, 60000)));
      for (const node of V1.nodes) healthAfterApply.push(await agent.api.serviceHealth(serviceOfNode(v1, node)));
      betaNodesAfterDeploy = await n(BETA).eval('nodes()');
      await boot(DELTA, v2);
      await waitDiscoverable(agent.api, V2.nodes.map((node) => serviceOfNode(v2, node)));
    });

    test('every running node reaches the new node, and the new node reaches them', async () => {
      for (const node of V1.nodes) expect(await n(node).pingUntil(DELTA, 'pong', 30000)).toBe('pong');
      for (const node of V1.nodes) expect(await n(DELTA).pingUntil(node, 'pong', 30000)).toBe('pong');
      expect(await n(DELTA).eval(`rpc:call(list_to_atom("${ALPHA}"), erlang, node, [])`)).toBe(`'${ALPHA}'`);
    });

    test('an unchanged edge keeps working through new connections (its listener was never replaced)', async () => {
      expect(await n(ALPHA).pingUntil(BETA, 'pong')).toBe('pong');
      expect(await n(BETA).pingUntil(ALPHA, 'pong')).toBe('pong');
    });

    test('the new edge between two running nodes works both ways', async () => {
      expect(await n(ALPHA).pingUntil(GAMMA, 'pong', 30000)).toBe('pong');
      expect(await n(GAMMA).pingUntil(ALPHA, 'pong', 30000)).toBe('pong');
    });

    test('the removed edge gives pang both ways; the connection open before the deploy was left alone', async () => {
      // Decision (README): an open connection to a removed peer is not cut by the helper.
      expect(betaNodesAfterDeploy).toContain(`'${GAMMA}'`);
      expect(await n(BETA).eval(`rpc:call(list_to_atom("${GAMMA}"), erlang, node, [])`)).toBe(`'${GAMMA}'`);
      expect(await n(BETA).pingUntil(GAMMA, 'pang', 30000)).toBe('pang');
      expect(await n(GAMMA).pingUntil(BETA, 'pang', 30000)).toBe('pang');
      expect(n(BETA).output).toMatch(new RegExp(`manifest version \\d+ applied: added ${DELTA}; removed ${GAMMA}`));
    });

    test('health stayed passing through the update (the agent keeps the TTL checks\' status when the service is registered again)', () => {
      expect(healthAfterApply).toEqual(['passing', 'passing', 'passing']);
    });

    test('no helper, BEAM or proxy restarted: same OS pids, alive, one BEAM start each', () => {
      for (const node of V1.nodes) {
        const b = before.get(node)!;
        expect(n(node).helperPid).toBe(b.helper);
        expect(n(node).pidOf('beam')).toBe(b.beam);
        expect(n(node).pidOf('proxy')).toBe(b.proxy);
        expect(isAlive(b.helper) && isAlive(b.beam) && isAlive(b.proxy)).toBe(true);
        expect(n(node).output.match(/started erl \(pid/g)).toHaveLength(1);
      }
    });

    test('unchanged upstreams keep port and address; a new peer host never takes a removed one\'s address', () => {
      const was = before.get(BETA)!.state;
      const now = readState(dirs.get(BETA)!);
      const up = (s: NodeState, node: string) => s.upstreams.find((u) => u.node === node);
      expect(up(now, ALPHA)).toEqual(up(was, ALPHA));
      // The synth gave delta 127.0.0.3 (gamma's address in v1, by position): the helper keeps it reserved.
      expect(v2.manifests.find((m) => m.manifest.node === BETA)!.manifest.upstreams.find((u) => u.node === DELTA)!.address).toBe(
        up(was, GAMMA)!.address,
      );
      expect(up(now, DELTA)!.address).not.toBe(up(was, GAMMA)!.address);
      expect(up(now, GAMMA)).toBeUndefined();
      const alphaWas = before.get(ALPHA)!.state;
      expect(up(readState(dirs.get(ALPHA)!), BETA)).toEqual(up(alphaWas, BETA));
    });

    test('state.json, the hosts file, peers, upstreams.env and `meshx-node env` show the live version', async () => {
      const dir = dirs.get(BETA)!;
      const s = readState(dir);
      const index = Number(JSON.parse((await agent.api.request('GET', `/v1/kv/${keyOf(v2, BETA)}`)).text)[0].ModifyIndex);
      expect(s.version).toMatchObject({ source: `kv:${keyOf(v2, BETA)}`, index });
      expect(fs.readFileSync(path.join(dir, 'peers'), 'utf8')).toBe(`${ALPHA}\n${DELTA}\n`);
      const hosts = fs.readFileSync(path.join(dir, 'hosts'), 'utf8');
      expect(hosts).toContain(`${s.upstreams.find((u) => u.node === DELTA)!.address} delta-1.live.test\n`);
      expect(hosts).not.toContain('gamma-1.live.test');
      const env = fs.readFileSync(path.join(dir, 'upstreams.env'), 'utf8');
      expect(env).toContain(`MESHX_UPSTREAM_${serviceOfNode(v2, DELTA).toUpperCase().replace(/-/g, '_')}_PORT=`);
      expect(env).not.toContain(serviceOfNode(v2, GAMMA).toUpperCase().replace(/-/g, '_'));
      // A companion BEAM through `meshx-node env` resolves the host added after boot.
      const vars = JSON.parse(spawnSync(process.execPath, [BIN, 'env', '--state-dir', dir, '--format', 'json'], { encoding: 'utf8' }).stdout);
      const r = spawnSync('erl', ['-noshell', '-eval', 'io:format("~p~n", [inet:getaddr("delta-1.live.test", inet)]), halt().'], {
        env: { ...process.env, ...vars },
        encoding: 'utf8',
        timeout: 30000,
      });
      expect(r.stdout.trim()).toBe(`{ok,{${s.upstreams.find((u) => u.node === DELTA)!.address.split('.').join(',')}}}`);
    });

    test('SIGTERM with the watch\'s blocking query in flight: the helper stops, deregisters and removes its files', async () => {
      const dir = dirs.get(DELTA)!;
      const code = await n(DELTA).stop('SIGTERM');
      expect([0, 143]).toContain(code);
      expect(await agent.api.service(serviceOfNode(v2, DELTA))).toBeUndefined();
      expect(fs.existsSync(path.join(dir, 'state.json'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'peers'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'hosts'))).toBe(false);
    });

    describe('bad versions are refused; the node stays on the last good one', () => {
      const cases: Array<[string, (good: any) => string, RegExp]> = [
        ['invalid JSON', () => '{"apiVersion": ', /is not valid JSON/],
        ['a schema error', (g) => JSON.stringify({ ...g, upstreams: [{ ...g.upstreams[0], port: 'x' }] }), /manifest field 'upstreams\[0\]\.port'/],
        [
          "another node's manifest",
          () => JSON.stringify(v2.manifests.find((m) => m.manifest.node === GAMMA)!.manifest),
          /manifest field 'node' changed/,
        ],
        [
          'a changed distribution port',
          (g) => JSON.stringify({ ...g, service: { ...g.service, distPort: 45999 } }),
          /manifest field 'service\.distPort' changed/,
        ],
        ['a changed service id', (g) => JSON.stringify({ ...g, service: { ...g.service, id: 'other-id' } }), /manifest field 'service\.id' changed/],
      ];
      test.each(cases)('%s: logged, state.json names it, health passing, beta still pong', async (_what, make, why) => {
        const good = v2.manifests.find((m) => m.manifest.node === ALPHA)!.manifest;
        const key = keyOf(v2, ALPHA);
        const liveBefore = readState(dirs.get(ALPHA)!).version!;
        const mark = n(ALPHA).output.length;
        await agent.api.kvPut(key, make(good));
        const line = await logSince(n(ALPHA), mark, /manifest version (\d+) refused: (.*)\n/);
        expect(line[2]).toMatch(why);
        expect(line[2]).toMatch(/still on version \d+/);
        const s = readState(dirs.get(ALPHA)!);
        expect(s.version).toEqual(liveBefore);
        expect(s.refused).toMatchObject({ index: Number(line[1]) });
        expect(await agent.api.serviceHealth(serviceOfNode(v2, ALPHA))).toBe('passing');
        expect(await n(ALPHA).pingUntil(BETA, 'pong')).toBe('pong');
        // The good version back: the next case starts from it (the same as live: nothing to apply).
        await agent.api.kvPut(key, JSON.stringify(good));
      });
    });
  });
});

// Replica groups on one host, Consul 1.8.7, legacy intentions: a group `api` scaled 1 -> 3 -> 2
// with no change to KV or intentions between the steps, next to a single node `db` and a node of
// an unconnected service. The mesh's prepared-query template is made by `meshx-node mesh init`
// (Consul 1.8 refuses the Terraform provider's request for it). Real agent, proxies and erl.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { queryTemplateName, replicaServiceId } from '../../lib/manifest/replicas';
import { GroupManifest, NodeManifest } from '../../lib/manifest/types';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { setIntention } from '../../support/intentions';
import { BIN, MeshNode, waitGone } from '../../support/mesh-node';
import { poll } from '../../support/wait';

jest.setTimeout(300_000);

const MESH = 'rep';
const COOKIE = 'replicas-' + Math.random().toString(36).slice(2);
const QUERY = queryTemplateName(MESH);
const API = 'rep-api';
const DB = 'db@db-1.rep.test';
const OTHER = 'other@other-1.rep.test';
const replica = (i: number) => `api@api-${i}.rep.test`;
const health = { tags: [], distPort: 0, ttl: '15s', deregisterCriticalAfter: '1m' };

const groupManifest: GroupManifest = {
  apiVersion: 'meshx-node/v1',
  mesh: MESH,
  group: { alive: 'api' },
  service: { name: API, meta: { meshx_mesh: MESH }, ...health },
  sidecar: { port: 0, proxy: 'builtin' as never },
  upstreams: [{ node: DB, service: 'rep-db', address: '127.0.0.2', port: 0 }],
  peerGroups: [{ service: API, query: QUERY }],
  epmdPort: 0,
};

const nodeManifest = (node: string, service: string): NodeManifest => ({
  apiVersion: 'meshx-node/v1',
  mesh: MESH,
  node,
  service: { id: service, name: service, meta: { meshx_mesh: MESH, erlang_node: node }, ...health },
  sidecar: { port: 0, proxy: 'builtin' as never },
  upstreams: [],
  peerGroups: [{ service: API, query: QUERY }],
  epmdPort: 0,
});

const KEYS = { api: `meshx/${MESH}/groups/${API}`, db: `meshx/${MESH}/nodes/rep-db`, other: `meshx/${MESH}/nodes/rep-other` };

describe('replica groups on one host (Consul 1.8.7, legacy intentions)', () => {
  let agent: DevAgent;
  const running = new Map<string, MeshNode>();
  const tmp = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-replicas-'));
  let kvIndexAfterSetup = 0;

  const boot = async (node: string, kv: string, nodeName?: string) => {
    const n = await MeshNode.start({
      kv,
      node,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      stateDir: path.join(tmp, node.replace(/[@.]/g, '-')),
      extraRunArgs: nodeName ? ['--node-name', nodeName] : [],
      // Not a full mesh: OTP's global would connect transitively (README limits).
      beamArgs: ['-connect_all', 'false'],
    });
    running.set(node, n);
    return n;
  };
  const peersFile = (node: string) => fs.readFileSync(path.join(tmp, node.replace(/[@.]/g, '-'), 'peers'), 'utf8').split('\n').filter(Boolean);
  /** Until every running node that follows the group lists exactly the running replicas (but itself). */
  const waitMembers = async (replicas: string[]) => {
    for (const [node] of running) {
      if (node === OTHER) continue;
      const want = [...replicas.filter((r) => r !== node), ...(node.startsWith('api@') ? [DB] : [])].sort();
      const got = await poll(() => peersFile(node).sort(), (p) => JSON.stringify(p) === JSON.stringify(want), { timeoutMs: 15000 });
      expect({ node, peers: got.value }).toEqual({ node, peers: want });
    }
  };
  const kvIndex = async () => (await agent.api.request('GET', '/v1/kv/meshx?recurse')).index ?? 0;

  beforeAll(async () => {
    agent = await DevAgent.start();
    // What a deploy of the stack writes: manifests, and intentions (a deny guards each service).
    await agent.api.kvPut(KEYS.api, JSON.stringify(groupManifest));
    await agent.api.kvPut(KEYS.db, JSON.stringify(nodeManifest(DB, 'rep-db')));
    await agent.api.kvPut(KEYS.other, JSON.stringify(nodeManifest(OTHER, 'rep-other')));
    for (const svc of [API, 'rep-db', 'rep-other']) await setIntention(agent.api, '*', svc, 'deny');
    await setIntention(agent.api, API, API, 'allow');
    await setIntention(agent.api, API, 'rep-db', 'allow');
    await setIntention(agent.api, 'rep-db', API, 'allow');
    kvIndexAfterSetup = await kvIndex();
  });

  afterAll(async () => {
    await Promise.all([...running.values()].map((n) => n.stop()));
    await agent?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('`meshx-node mesh init` creates the template on Consul 1.8.7, and again is an update', () => {
    // `run`'s login settings in the environment do not reach `mesh init`, which uses its own token.
    const env = { ...process.env, MESHX_LOGIN_METHOD: 'some-method', MESHX_BEARER_TOKEN_FILE: '/nonexistent' };
    const init = () => spawnSync(process.execPath, [BIN, 'mesh', 'init', '--mesh', MESH, '--consul-addr', agent.httpAddr], { encoding: 'utf8', env });
    const first = init();
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(new RegExp(`^created prepared-query template ${QUERY} \\(id [0-9a-f-]{36}\\)\\n$`));
    const again = init();
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^updated prepared-query template ${QUERY} `));
    const bad = spawnSync(process.execPath, [BIN, 'mesh', 'init', '--mesh', 'Not_A_Mesh', '--consul-addr', agent.httpAddr], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--mesh: 'Not_A_Mesh' is not a mesh name/);
  });

  test('one replica next to db: each reaches the other; its service ID is per replica', async () => {
    await boot(DB, KEYS.db);
    await boot(OTHER, KEYS.other);
    const a1 = await boot(replica(1), KEYS.api, replica(1));
    expect(a1.output).toContain(`registered ${replicaServiceId(API, replica(1))} `);
    await waitMembers([replica(1)]);
    expect(await a1.pingUntil(DB, 'pong')).toBe('pong');
    expect(await running.get(DB)!.pingUntil(replica(1), 'pong')).toBe('pong');
  });

  test('scaled to 3 with no deploy: every pair of replicas and every replica with db pong', async () => {
    const [a2] = await Promise.all([boot(replica(2), KEYS.api, replica(2)), boot(replica(3), KEYS.api, replica(3))]);
    // It booted knowing the members passing then (api-1): db and api-1 at least, before its BEAM started.
    expect(Number(a2.output.match(/registered \S+ \(dist [^,]+, sidecar :\d+, (\d+) upstreams\)/)![1])).toBeGreaterThanOrEqual(2);
    await waitDiscoverable(agent.api, [API]);
    await waitMembers([1, 2, 3].map(replica));
    // Each peer replica is its own upstream: a prepared query that finds that one instance.
    const sidecar = await agent.api.service(`${replicaServiceId(API, replica(1))}-sidecar-proxy`);
    const upstreams = (sidecar!.Proxy.Upstreams ?? []) as Array<{ DestinationType?: string; DestinationName: string }>;
    expect(upstreams.map((u) => [u.DestinationType, u.DestinationName]).sort()).toEqual([
      ['prepared_query', `${QUERY}${API}~${replica(2)}`],
      ['prepared_query', `${QUERY}${API}~${replica(3)}`],
      ['service', 'rep-db'],
    ]);
    for (const a of [1, 2, 3]) {
      for (const b of [1, 2, 3]) if (a !== b) expect([a, b, await running.get(replica(a))!.pingUntil(replica(b), 'pong')]).toEqual([a, b, 'pong']);
      expect(await running.get(DB)!.pingUntil(replica(a), 'pong')).toBe('pong');
    }
  });

  test('a node of an unconnected service gets pang from every replica', async () => {
    const other = running.get(OTHER)!;
    for (const a of [1, 2, 3]) expect(await other.pingUntil(replica(a), 'pang', 5000)).toBe('pang');
  });

  test('scaled in to 2: the stopped replica is gone from every peer, and new connections to it fail', async () => {
    const a3 = running.get(replica(3))!;
    const pids = [a3.pidOf('proxy'), a3.pidOf('beam')];
    expect(await a3.stop()).toBe(0);
    running.delete(replica(3));
    expect(await waitGone(pids)).toBe(true);
    await waitMembers([1, 2].map(replica));
    for (const node of [replica(1), replica(2), DB]) {
      expect(fs.readFileSync(path.join(tmp, node.replace(/[@.]/g, '-'), 'hosts'), 'utf8')).not.toContain('api-3.rep.test');
    }
    expect(await running.get(replica(1))!.pingUntil(replica(3), 'pang', 5000)).toBe('pang');
    expect(running.get(replica(1))!.output).toMatch(new RegExp(`members of ${API}: added none; removed api@api-3\\.rep\\.test`));
    expect(await running.get(replica(1))!.pingUntil(replica(2), 'pong')).toBe('pong');
  });

  test("the cluster forms with stock tools: OTP's net_adm:world_list/1 over the peers file's hosts", async () => {
    const a1 = running.get(replica(1))!;
    await a1.eval(`[erlang:disconnect_node(N) || N <- nodes()]`);
    const expr = 'begin {ok,B} = file:read_file(filename:join(os:getenv("MESHX_STATE_DIR"), "peers")), '
      + 'Hs = [list_to_atom(lists:last(string:split(L, "@"))) || L <- string:lexemes(binary_to_list(B), "\\n")], '
      + 'lists:sort(net_adm:world_list(Hs)) end';
    expect(await a1.eval(expr)).toBe(`['${replica(2)}','${DB}']`);
  });

  test('a deny on the group cuts new connections to all replicas at once', async () => {
    await setIntention(agent.api, API, API, 'deny');
    expect(await running.get(replica(1))!.pingUntil(replica(2), 'pang')).toBe('pang');
    expect(await running.get(replica(2))!.pingUntil(replica(1), 'pang')).toBe('pang');
    await setIntention(agent.api, API, API, 'allow');
    expect(await running.get(replica(1))!.pingUntil(replica(2), 'pong')).toBe('pong');
  });

  test('no scale step touched KV', async () => {
    expect(await kvIndex()).toBe(kvIndexAfterSetup);
  });
});

// Replica groups on the production-shaped cluster: 3 hosts, Consul 1.14.11, ACLs (default deny),
// HTTPS agents. Deployed once through Terraform (the group, its token, the prepared-query
// template); then a group `api` scaled 1 -> 4 -> 2 across hosts, next to a single node `db`, with
// no deploy in between (KV unchanged, the plan empty).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { BeamMesh, ProxyKind } from '../../lib';
import { Cluster } from '../../support/cluster/cluster';
import { listNamespaces } from '../../support/cluster/netns';
import { setIntentionEntry } from '../../support/intentions';
import { MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth, TerraformStackDir, writeTokenFile } from '../../support/terraform';
import { poll } from '../../support/wait';

jest.setTimeout(300_000);

const COOKIE = 'grp-' + Math.random().toString(36).slice(2);
const DB = 'db@app-1.cluster.test';
const OTHER = 'other@app-3.cluster.test';
/** Replicas: one per host, and a second on host 1 under another host name. */
const REPLICAS = [
  { node: 'api@app-1.cluster.test', host: 0 },
  { node: 'api@app-2.cluster.test', host: 1 },
  { node: 'api@app-3.cluster.test', host: 2 },
  { node: 'api@r2.app-1.cluster.test', host: 0 },
];

describe('replica groups on the cluster: 3 hosts, Consul 1.14.11, ACLs, Terraform', () => {
  let cluster: Cluster;
  let stack: TerraformStackDir;
  const keys: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const running = new Map<string, MeshNode>();
  let kvIndex0 = 0;

  const kvIndex = async () => (await cluster.api.request('GET', '/v1/kv/meshx?recurse')).index ?? 0;
  const peers = (n: MeshNode) => n.eval('begin {ok,B} = file:read_file(filename:join(os:getenv("MESHX_STATE_DIR"), "peers")), '
    + 'lists:sort(string:lexemes(binary_to_list(B), "\\n")) end');
  const bootReplica = async (i: number) => {
    const r = REPLICAS[i];
    const n = await cluster.bootNode(cluster.hosts[r.host], {
      kv: keys.api, node: r.node, tokenFile: tokens.api, cookie: COOKIE, extraRunArgs: ['--node-name', r.node], beamArgs: ['-connect_all', 'false'],
    });
    running.set(r.node, n);
    return n;
  };
  /** Until every running node that dials the group lists exactly the running replicas (but itself), and db. */
  const waitMembers = async (replicas: string[]) => {
    for (const [node, n] of running) {
      if (node === OTHER) continue;
      const members = [...replicas.filter((r) => r !== node), ...(node === DB ? [] : [DB])].sort();
      const want = `[${members.map((x) => `"${x}"`).join(',')}]`;
      const got = await poll(() => peers(n), (p) => p === want, { timeoutMs: 20_000 });
      expect({ node, peers: got.value }).toEqual({ node, peers: want });
    }
  };
  const pingMatrix = async (replicas: string[]) => {
    for (const a of replicas) {
      for (const b of [...replicas, DB]) if (a !== b) expect([a, b, await running.get(a)!.pingUntil(b, 'pong', 20_000)]).toEqual([a, b, 'pong']);
      expect([DB, a, await running.get(DB)!.pingUntil(a, 'pong', 20_000)]).toEqual([DB, a, 'pong']);
    }
  };

  beforeAll(async () => {
    cluster = await Cluster.start({ hosts: 3 });
    let apiKey = '';
    let dbKey = '';
    let otherKey = '';
    const synth = synthToDir((app) => {
      const s = new TerraformStack(app, 'grp');
      new ConsulProvider(s, 'consul', {});
      const mesh = new BeamMesh(s, 'Mesh', { name: 'grp', acl: true, proxy: ProxyKind.BUILTIN });
      const api = mesh.addReplicas('Api', { alive: 'api' });
      const db = mesh.addNode('Db', { nodeName: DB });
      const other = mesh.addNode('Other', { nodeName: OTHER });
      mesh.connect(api, db);
      [apiKey, dbKey, otherKey] = [api.kvKey, db.kvKey, other.kvKey];
      return s;
    });
    stack = await deploySynth(synth.outdir, 'grp', cluster);
    Object.assign(keys, { api: apiKey, db: dbKey, other: otherKey });
    const accessors = await stack.tokenAccessors();
    for (const [name, svc] of [['api', 'grp-api'], ['db', 'grp-db'], ['other', 'grp-other']]) {
      tokens[name] = await writeTokenFile(cluster.api, accessors[svc], path.join(cluster.work, `${svc}.token`));
    }
    kvIndex0 = await kvIndex();
    const db = { kv: keys.db, node: DB, tokenFile: tokens.db, cookie: COOKIE, beamArgs: ['-connect_all', 'false'] };
    running.set(DB, await cluster.bootNode(cluster.hosts[0], db));
    // An unconnected node that routes to the group anyway (a forged manifest, its own token):
    // only the intentions stand in its way.
    const forged = JSON.parse((await cluster.api.kvGet(keys.other))!);
    forged.peerGroups = [{ service: 'grp-api', query: 'meshx~grp~' }];
    const file = path.join(cluster.work, 'other-forged.json');
    fs.writeFileSync(file, JSON.stringify(forged));
    running.set(OTHER, await cluster.bootNode(cluster.hosts[2], { manifestFile: file, node: OTHER, tokenFile: tokens.other, cookie: COOKIE }));
  });

  afterAll(async () => {
    await cluster?.stop();
    expect(listNamespaces().filter((n) => n.startsWith(`mx-${process.pid}-`))).toEqual([]);
  });

  test('deployed once: the template, one token and one manifest for the group, no per-replica resource', async () => {
    const queries = JSON.parse((await cluster.api.request('GET', '/v1/query')).text) as Array<{ Name: string; Template: { Regexp: string } }>;
    expect(queries.map((q) => q.Name)).toEqual(['meshx~grp~']);
    expect(queries[0].Template.Regexp).toBe('^meshx~grp~([a-z0-9-]+)~([A-Za-z0-9_-]+@[A-Za-z0-9.-]+)$');
    expect(JSON.parse((await cluster.api.kvGet(keys.api))!).group).toEqual({ alive: 'api' });
  });

  test('1 replica: it and db reach each other', async () => {
    await bootReplica(0);
    await waitMembers([REPLICAS[0].node]);
    await pingMatrix([REPLICAS[0].node]);
  });

  test('scaled to 4 across the hosts with no deploy: every pair pongs, and with db', async () => {
    await Promise.all([1, 2, 3].map(bootReplica));
    const all = REPLICAS.map((r) => r.node);
    await waitMembers(all);
    await pingMatrix(all);
  });

  test('a node of an unconnected service gets pang from every replica, though it routes to them', async () => {
    const other = running.get(OTHER)!;
    await poll(() => peers(other), (p) => REPLICAS.every((r) => p.includes(r.node)), { timeoutMs: 20_000 });
    for (const r of REPLICAS) expect([r.node, await other.pingUntil(r.node, 'pang', 5000)]).toEqual([r.node, 'pang']);
  });

  test('scaled in to 2: the stopped replicas are gone from every peer, new connections to them pang', async () => {
    const gone = [REPLICAS[2].node, REPLICAS[3].node];
    for (const g of gone) {
      const n = running.get(g)!;
      const pids = [n.pidOf('proxy'), n.pidOf('beam')];
      expect(await n.stop()).toBe(0);
      running.delete(g);
      expect(await waitGone(pids)).toBe(true);
    }
    const left = [REPLICAS[0].node, REPLICAS[1].node];
    await waitMembers(left);
    for (const g of gone) expect(await running.get(left[0])!.pingUntil(g, 'pang', 5000)).toBe('pang');
    await pingMatrix(left);
  });

  test('a deny intention on the group cuts new connections to every replica', async () => {
    const db = running.get(DB)!;
    await setIntentionEntry(cluster.api, 'grp-db', 'grp-api', 'deny');
    for (const r of [REPLICAS[0], REPLICAS[1]]) expect(await db.pingUntil(r.node, 'pang', 20_000)).toBe('pang');
    await setIntentionEntry(cluster.api, 'grp-db', 'grp-api', 'allow');
    for (const r of [REPLICAS[0], REPLICAS[1]]) expect(await db.pingUntil(r.node, 'pong', 20_000)).toBe('pong');
  });

  test('no scale step touched KV', async () => {
    expect(await kvIndex()).toBe(kvIndex0);
  });
});

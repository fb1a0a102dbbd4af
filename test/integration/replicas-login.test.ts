// The login path for replica groups: one JWT role per group, deployed to a real Consul 1.8.7 agent
// (ACLs on, default deny) through the Terraform CLI. Three replicas of `api` and a single node
// `db` each log in with a JWT this test signs (RS256, node:crypto); every replica carries the same
// service claim, so all get the group's one role, each with a token of its own, and none needs a
// token made for it. The mesh's prepared-query template comes from `meshx-node mesh init`.
import { spawnSync } from 'node:child_process';
import { createSign, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { queryTemplateName } from '../../lib/manifest/replicas';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { BIN, MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth, TerraformStackDir } from '../../support/terraform';
import { poll } from '../../support/wait';

jest.setTimeout(300_000);

const MESH = 'lr';
const COOKIE = 'replicas-login-' + Math.random().toString(36).slice(2);
const METHOD = `${MESH}-meshx-node`;
const ISSUER = 'https://issuer.lr.test';
const AUDIENCE = 'meshx-lr';
const API = 'lr-api';
const DB_SERVICE = 'lr-db';
const DB = 'db@db-1.lr.test';
const REPLICAS = [1, 2, 3].map((i) => `api@api-${i}.lr.test`);
const QUERY = queryTemplateName(MESH);

const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An RS256 JWT (Consul's jwt auth method accepts RS256 unless told otherwise). */
function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const signed = `${b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  return `${signed}.${b64u(createSign('RSA-SHA256').update(signed).sign(key))}`;
}

interface TokenStub {
  AccessorID: string;
  AuthMethod?: string;
  Roles?: Array<{ ID: string; Name: string }>;
  ServiceIdentities?: Array<{ ServiceName: string }>;
  Description?: string;
}

describe('replica groups log in with one JWT role per group (Consul 1.8.7, ACLs on, default deny, Terraform CLI)', () => {
  const master = randomUUID();
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-replicas-login-'));
  let agent: DevAgent | undefined;
  let deployed: TerraformStackDir;
  let outdir: string;
  let apiKv = '';
  let dbKv = '';
  const running = new Map<string, MeshNode>();
  const stopped: MeshNode[] = [];
  const jwts: string[] = [];
  const loginSecrets = new Set<string>();
  const initOutputs: string[] = [];

  const jwtFile = (name: string, service: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = signJwt(privateKey, { iss: ISSUER, aud: AUDIENCE, sub: name, meshx_service: service, iat: now, nbf: now - 5, exp: now + 900 });
    jwts.push(jwt);
    const f = path.join(dir, `${name.replace(/[@.]/g, '-')}.jwt`);
    fs.writeFileSync(f, jwt + '\n', { mode: 0o600 });
    return f;
  };
  const stateDir = (node: string) => path.join(dir, `state-${node.replace(/[@.]/g, '-')}`);
  const peersOf = (node: string): string[] => {
    try {
      return fs.readFileSync(path.join(stateDir(node), 'peers'), 'utf8').split('\n').filter(Boolean).sort();
    } catch {
      return [];
    }
  };
  const api = () => agent!.api;
  const getJson = async (p: string): Promise<any> => {
    const r = await api().request('GET', p);
    expect([p, r.status]).toEqual([p, 200]);
    return JSON.parse(r.text);
  };
  /** Tokens made by a login (the list shows no secrets). */
  const loginTokens = async (): Promise<TokenStub[]> => ((await getJson('/v1/acl/tokens')) as TokenStub[]).filter((t) => t.AuthMethod);
  /** Each login token's secret, read one by one with the master token, kept for the secrets check. */
  const remember = async () => {
    for (const t of await loginTokens()) loginSecrets.add((await getJson(`/v1/acl/token/${t.AccessorID}`)).SecretID);
  };
  /** The accessor of the token the helper logged in with (its log line). */
  const accessorOf = (n: MeshNode): string => {
    const m = n.output.match(new RegExp(`logged in to auth method '${METHOD}' \\(token accessor ([0-9a-f-]{36})\\)`));
    expect([n.name, m !== null]).toEqual([n.name, true]);
    return m![1];
  };
  const boot = async (node: string, kv: string, service: string): Promise<MeshNode> => {
    const n = await MeshNode.start({
      kv,
      node,
      consulAddr: agent!.httpAddr,
      cookie: COOKIE,
      stateDir: stateDir(node),
      extraRunArgs: ['--node-name', node, '--login-method', METHOD, '--bearer-token-file', jwtFile(node, service)],
      // Not a full mesh: OTP's global would connect transitively (README limits).
      beamArgs: ['-connect_all', 'false'],
    });
    running.set(node, n);
    return n;
  };

  beforeAll(async () => {
    agent = await DevAgent.start({ aclMasterToken: master });
    ({ outdir } = synthToDir((app) => {
      const stack = new TerraformStack(app, MESH);
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', {
        name: MESH,
        intentionsMode: IntentionsMode.LEGACY,
        proxy: ProxyKind.BUILTIN,
        login: { jwt: { boundIssuer: ISSUER, boundAudiences: [AUDIENCE], jwtValidationPubKeys: [pem] } },
      });
      // An idle helper asks the agent once per TTL/3: 5 s here.
      const apiGroup = mesh.addReplicas('Api', { alive: 'api', ttl: '15s' });
      const db = mesh.addNode('Db', { nodeName: DB });
      mesh.connect(apiGroup, db);
      apiKv = apiGroup.kvKey;
      dbKv = db.kvKey;
      return stack;
    }));
    deployed = await deploySynth(outdir, MESH, agent);
  });

  afterAll(async () => {
    try {
      await Promise.all([...running.values()].map((n) => n.stop('SIGTERM')));
      running.clear();
    } finally {
      await agent?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the deploy: one binding rule and one role for the group, no static token, no query template (LEGACY)', async () => {
    expect(apiKv).toBe(`meshx/${MESH}/groups/${API}`);
    const methods = await getJson('/v1/acl/auth-methods');
    expect(methods.map((m: any) => `${m.Name}:${m.Type}`)).toEqual([`${METHOD}:jwt`]);
    const rules = (await getJson(`/v1/acl/binding-rules?authmethod=${METHOD}`)) as Array<{ Selector: string; BindType: string; BindName: string }>;
    const groupRules = rules.filter((r) => r.Selector.includes(`"${API}"`));
    expect(groupRules).toHaveLength(1);
    expect(groupRules[0].Selector).toBe(`value.meshx_service == "${API}"`);
    expect(groupRules[0].BindType).toBe('role');
    expect(rules.map((r) => r.Selector).sort()).toEqual([`value.meshx_service == "${API}"`, `value.meshx_service == "${DB_SERVICE}"`]);
    // The role the rule binds exists and holds the group's service identity.
    const roles = (await getJson('/v1/acl/roles')) as Array<{ Name: string; ServiceIdentities?: Array<{ ServiceName: string }> }>;
    const groupRoles = roles.filter((r) => (r.ServiceIdentities ?? []).some((s) => s.ServiceName === API));
    expect(groupRoles.map((r) => r.Name)).toEqual([groupRules[0].BindName]);
    expect(groupRules[0].BindName).toBe(`${API}-meshx-node`);
    // No static token for the group (nor for db): the only tokens are the master and the anonymous one.
    const tokens = (await getJson('/v1/acl/tokens')) as TokenStub[];
    expect(tokens.filter((t) => (t.ServiceIdentities ?? []).some((s) => s.ServiceName === API))).toEqual([]);
    expect(tokens.filter((t) => /meshx-node/.test(t.Description ?? ''))).toEqual([]);
    expect(tokens.filter((t) => t.AuthMethod)).toEqual([]);
    // LEGACY: the stack made no prepared query.
    expect(await getJson('/v1/query')).toEqual([]);
    const plan = await deployed.plan();
    expect((plan.resource_changes ?? []).every((c: any) => c.change.actions.join(',') === 'no-op')).toBe(true);
  });

  test('`meshx-node mesh init` with the master token creates the template', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CONSUL_HTTP_TOKEN: master };
    delete env.CONSUL_HTTP_TOKEN_FILE;
    const r = spawnSync(process.execPath, [BIN, 'mesh', 'init', '--mesh', MESH, '--consul-addr', agent!.httpAddr], { encoding: 'utf8', env });
    initOutputs.push(r.stdout, r.stderr);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^created prepared-query template ${QUERY} \\(id [0-9a-f-]{36}\\)\\n$`));
  });

  test('3 replicas and db boot by login, each replica with a token of its own bound to the group role', async () => {
    const db = await boot(DB, dbKv, DB_SERVICE);
    await Promise.all(REPLICAS.map((r) => boot(r, apiKv, API)));
    await waitDiscoverable(api(), [API, DB_SERVICE]);
    const accessors = REPLICAS.map((r) => accessorOf(running.get(r)!));
    expect(new Set(accessors).size).toBe(3);
    const dbAccessor = accessorOf(db);
    expect(accessors).not.toContain(dbAccessor);
    const tokens = await loginTokens();
    expect(tokens.map((t) => t.AccessorID).sort()).toEqual([...accessors, dbAccessor].sort());
    for (const a of accessors) {
      const t = tokens.find((x) => x.AccessorID === a)!;
      expect({ a, method: t.AuthMethod, roles: (t.Roles ?? []).map((r) => r.Name) }).toEqual({ a, method: METHOD, roles: [`${API}-meshx-node`] });
    }
    expect((tokens.find((x) => x.AccessorID === dbAccessor)!.Roles ?? []).map((r) => r.Name)).toEqual([`${DB_SERVICE}-meshx-node`]);
    // The token file in each state dir is the secret of that replica's own token.
    await remember();
    for (const [i, r] of REPLICAS.entries()) {
      const secret = fs.readFileSync(path.join(stateDir(r), 'consul.token'), 'utf8').trim();
      expect((await getJson(`/v1/acl/token/${accessors[i]}`)).SecretID).toBe(secret);
    }
  });

  test('every pair of replicas pongs, and each replica and db pong both ways', async () => {
    const db = running.get(DB)!;
    for (const r of REPLICAS) {
      const want = [...REPLICAS.filter((x) => x !== r), DB].sort();
      const got = await poll(() => peersOf(r), (p) => JSON.stringify(p) === JSON.stringify(want), { timeoutMs: 15000 });
      expect({ r, peers: got.value }).toEqual({ r, peers: want });
    }
    for (const a of REPLICAS) {
      for (const b of REPLICAS) if (a !== b) expect([a, b, await running.get(a)!.pingUntil(b, 'pong')]).toEqual([a, b, 'pong']);
      expect([a, DB, await running.get(a)!.pingUntil(DB, 'pong')]).toEqual([a, DB, 'pong']);
      expect([DB, a, await db.pingUntil(a, 'pong')]).toEqual([DB, a, 'pong']);
    }
  });

  test('a replica stopped with SIGTERM logs out: its token is gone, and the others drop it from their peers', async () => {
    const gone = REPLICAS[2];
    const n = running.get(gone)!;
    const accessor = accessorOf(n);
    const pids = [n.helperPid, n.pidOf('proxy'), n.pidOf('beam')];
    await remember();
    expect(await n.stop('SIGTERM')).toBe(0);
    running.delete(gone);
    stopped.push(n);
    expect(await waitGone(pids)).toBe(true);
    expect(n.output).toContain(`logged out (token accessor ${accessor} destroyed)`);
    expect((await api().request('GET', `/v1/acl/token/${accessor}`)).status).not.toBe(200);
    const left = (await loginTokens()).map((t) => t.AccessorID);
    expect(left).not.toContain(accessor);
    expect(left.sort()).toEqual([...REPLICAS.slice(0, 2), DB].map((r) => accessorOf(running.get(r)!)).sort());
    for (const r of [...REPLICAS.slice(0, 2), DB]) {
      const got = await poll(() => peersOf(r), (p) => !p.includes(gone), { timeoutMs: 15000 });
      expect({ r, peers: got.value }).toEqual({ r, peers: [...REPLICAS.slice(0, 2).filter((x) => x !== r), ...(r === DB ? [] : [DB])].sort() });
    }
    expect(await running.get(REPLICAS[0])!.pingUntil(REPLICAS[1], 'pong')).toBe('pong');
    expect(await running.get(REPLICAS[0])!.pingUntil(gone, 'pang', 5000)).toBe('pang');
  });

  test('no JWT and no login token secret in any helper output', async () => {
    await remember();
    expect(loginSecrets.size).toBe(4);
    expect(jwts).toHaveLength(4);
    const secrets = [...loginSecrets, ...jwts, master];
    const outputs: Array<[string, string]> = [...[...running.values(), ...stopped].map((n): [string, string] => [n.name, n.output])];
    outputs.push(['mesh init', initOutputs.join('\n')]);
    expect(outputs).toHaveLength(5);
    for (const [who, text] of outputs) {
      expect(text.length).toBeGreaterThan(0);
      for (const s of secrets) expect([who, text.includes(s)]).toEqual([who, false]);
    }
  });
});

// Node tokens without a human: the mesh's JWT auth method deployed to a real Consul 1.8.7 agent
// (ACLs on, default deny) through the Terraform CLI; each helper logs in with a JWT this test
// signs itself (RS256, node:crypto), and logs out at stop.
import { createSign, generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { ConsulAgent } from '../../lib/runtime/consul/agent';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { isAlive, MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth, TerraformStackDir } from '../../support/terraform';

jest.setTimeout(240_000);

const COOKIE = 'login-cookie-' + Math.random().toString(36).slice(2);
const A = 'alpha@alpha-1.lg.test';
const B = 'beta@beta-1.lg.test';
const C = 'gamma@gamma-1.lg.test';
const METHOD = 'lg-meshx-node';
const ISSUER = 'https://issuer.lg.test';
const AUDIENCE = 'meshx-lg';

const b64u = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An RS256 JWT (Consul's jwt auth method accepts RS256 unless told otherwise). */
function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const signed = `${b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  return `${signed}.${b64u(createSign('RSA-SHA256').update(signed).sign(key))}`;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 20000): Promise<T> {
  const t0 = Date.now();
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

describe('ACL auth-method login (JWT), Consul 1.8.7, ACLs on, default deny', () => {
  const master = randomUUID();
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let agent: DevAgent;
  let deployed: TerraformStackDir;
  let outdir: string;
  let dir: string;
  const nodes: MeshNode[] = [];
  const jwts: string[] = [];
  const loginSecrets = new Set<string>();

  const jwtFor = (service: string, extra: Record<string, unknown> = {}, key: KeyObject = privateKey): string => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = signJwt(key, { iss: ISSUER, aud: AUDIENCE, sub: service, meshx_service: service, iat: now, nbf: now - 5, exp: now + 900, ...extra });
    jwts.push(jwt);
    return jwt;
  };
  const jwtFile = (name: string, jwt: string): string => {
    const f = path.join(dir, `${name}.jwt`);
    fs.writeFileSync(f, jwt + '\n', { mode: 0o600 });
    return f;
  };
  const loginArgs = (file: string) => ['--login-method', METHOD, '--bearer-token-file', file];
  const stateDir = (svc: string) => path.join(dir, `state-${svc}`);
  /** Tokens made by a login, read one by one with the master token (the list may hide secrets). */
  const loginTokens = async (): Promise<Array<{ AccessorID: string; SecretID: string; AuthMethod?: string; Description: string }>> => {
    const r = await agent.api.request('GET', '/v1/acl/tokens');
    expect(r.status).toBe(200);
    const stubs = (JSON.parse(r.text) as Array<{ AccessorID: string; AuthMethod?: string }>).filter((t) => t.AuthMethod);
    return Promise.all(stubs.map(async (t) => JSON.parse((await agent.api.request('GET', `/v1/acl/token/${t.AccessorID}`)).text)));
  };
  const remember = async () => (await loginTokens()).forEach((t) => loginSecrets.add(t.SecretID));

  beforeAll(async () => {
    agent = await DevAgent.start({ aclMasterToken: master });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-login-'));
    ({ outdir } = synthToDir((app) => {
      const stack = new TerraformStack(app, 'lg');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', {
        name: 'lg',
        intentionsMode: IntentionsMode.LEGACY,
        proxy: ProxyKind.BUILTIN,
        login: { jwt: { boundIssuer: ISSUER, boundAudiences: [AUDIENCE], jwtValidationPubKeys: [pem] } },
      });
      // An idle helper asks the agent once per TTL/3 (a revoked token is noticed then): 5 s here.
      mesh.connect(mesh.addNode('Alpha', { nodeName: A, ttl: '15s' }), mesh.addNode('Beta', { nodeName: B }));
      mesh.addNode('Gamma', { nodeName: C });
      return stack;
    }));
    deployed = await deploySynth(outdir, 'lg', agent);
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('deployed through the Terraform CLI: auth method, one role and one binding rule per node, no static token, no permanent diff', async () => {
    const plan = await deployed.plan();
    const changes = (plan.resource_changes ?? []).map((c: any) => c.change.actions.join(','));
    expect(changes.length).toBeGreaterThan(10);
    expect(changes.every((a: string) => a === 'no-op')).toBe(true);
    const methods = JSON.parse((await agent.api.request('GET', '/v1/acl/auth-methods')).text);
    expect(methods.map((m: any) => `${m.Name}:${m.Type}`)).toEqual([`${METHOD}:jwt`]);
    const rules = JSON.parse((await agent.api.request('GET', `/v1/acl/binding-rules?authmethod=${METHOD}`)).text);
    expect(rules.map((r: any) => `${r.Selector} -> ${r.BindType}:${r.BindName}`).sort()).toEqual([
      'value.meshx_service == "lg-alpha" -> role:lg-alpha-meshx-node',
      'value.meshx_service == "lg-beta" -> role:lg-beta-meshx-node',
      'value.meshx_service == "lg-gamma" -> role:lg-gamma-meshx-node',
    ]);
    const tokens = JSON.parse((await agent.api.request('GET', '/v1/acl/tokens')).text);
    expect(tokens.filter((t: any) => /meshx-node/.test(t.Description ?? ''))).toHaveLength(0);
  });

  test('each node boots by login (alpha from its manifest key, beta from the synth) and pings its peer; the proxy gets the token through a 0600 ' +
    'file', async () => {
    const started = await Promise.all([
      MeshNode.start({
        kv: 'meshx/lg/nodes/lg-alpha',
        node: A,
        consulAddr: agent.httpAddr,
        cookie: COOKIE,
        stateDir: stateDir('lg-alpha'),
        extraRunArgs: loginArgs(jwtFile('alpha', jwtFor('lg-alpha'))),
      }),
      // beta reads its manifest from the synth: the login happens in the boot's login step
      MeshNode.start({
        from: outdir,
        node: B,
        consulAddr: agent.httpAddr,
        cookie: COOKIE,
        stateDir: stateDir('lg-beta'),
        env: { MESHX_LOGIN_METHOD: METHOD, MESHX_BEARER_TOKEN_FILE: jwtFile('beta', jwtFor('lg-beta')) },
      }),
    ]);
    nodes.push(...started);
    await waitDiscoverable(agent.api, ['lg-alpha', 'lg-beta']);
    expect(await started[0].ping(B)).toBe('pong');
    expect(await started[1].ping(A)).toBe('pong');
    for (const n of started) expect(n.output).toMatch(new RegExp(`logged in to auth method '${METHOD}' \\(token accessor [0-9a-f-]+\\)`));
    const tokens = await loginTokens();
    expect(tokens).toHaveLength(2);
    await remember();
    for (const svc of ['lg-alpha', 'lg-beta']) {
      const f = path.join(stateDir(svc), 'consul.token');
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      expect(loginSecrets.has(fs.readFileSync(f, 'utf8').trim())).toBe(true);
    }
    // The proxy was started with -token-file pointing there.
    const proxyArgs = fs.readFileSync(`/proc/${started[0].pidOf('proxy')}/cmdline`, 'utf8').split('\0');
    expect(proxyArgs).toContain('-token-file');
    expect(proxyArgs[proxyArgs.indexOf('-token-file') + 1]).toBe(path.join(stateDir('lg-alpha'), 'consul.token'));
  });

  test("a JWT for node A gets A's token: it cannot register B or read B's manifest (403)", async () => {
    const r = await agent.api.request('POST', '/v1/acl/login', { AuthMethod: METHOD, BearerToken: jwtFor('lg-alpha') }, false, { token: null });
    expect(r.status).toBe(200);
    const secret = JSON.parse(r.text).SecretID as string;
    loginSecrets.add(secret);
    const asA = new ConsulAgent({ address: agent.httpAddr, token: secret });
    try {
      expect((await asA.request('PUT', '/v1/agent/service/register', { ID: 'lg-beta', Name: 'lg-beta', Port: 1 })).status).toBe(403);
      expect((await asA.request('GET', '/v1/kv/meshx/lg/nodes/lg-beta?raw')).status).toBe(403);
      expect((await asA.request('GET', '/v1/kv/meshx/lg/nodes/lg-alpha?raw')).status).toBe(200);
      expect((await asA.request('PUT', '/v1/acl/token', { Description: 'x' })).status).toBe(403);
    } finally {
      expect((await asA.request('POST', '/v1/acl/logout')).status).toBe(200);
    }
    // beta's registration is untouched
    expect(await agent.api.service('lg-beta')).toBeDefined();
  });

  test.each([
    [
      'expired',
      () => jwtFor('lg-gamma', { iat: 1_000_000_000, nbf: 1_000_000_000, exp: Math.floor(Date.now() / 1000) - 3600 }),
      /the JWT has expired \(exp\)/,
    ],
    [
      'signed by another key',
      () => jwtFor('lg-gamma', {}, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
      /not signed by a key the auth method trusts/,
    ],
    ['for another audience', () => jwtFor('lg-gamma', { aud: 'other' }), /audience \(aud\)/],
    ['naming no node of the mesh', () => jwtFor('lg-nobody'), /no binding rule of 'lg-meshx-node' matches it/],
  ])('a JWT %s is refused: exit 1 saying why, nothing registered, no token left', async (_what, make, says) => {
    const before = (await loginTokens()).length;
    const n = await MeshNode.start({
      kv: 'meshx/lg/nodes/lg-gamma',
      node: C,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      stateDir: stateDir('lg-gamma'),
      extraRunArgs: loginArgs(jwtFile('gamma', make())),
      waitFor: 'nothing',
    });
    expect(await n.exited).toBe(1);
    expect(n.output).toMatch(says);
    expect(await agent.api.service('lg-gamma')).toBeUndefined();
    expect(await loginTokens()).toHaveLength(before);
  });

  test("a JWT for alpha used to boot gamma: logs in as alpha, cannot read gamma's manifest, exit 1, logs out", async () => {
    const before = (await loginTokens()).length;
    const n = await MeshNode.start({
      kv: 'meshx/lg/nodes/lg-gamma',
      node: C,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      stateDir: stateDir('lg-gamma'),
      extraRunArgs: loginArgs(jwtFile('gamma', jwtFor('lg-alpha'))),
      waitFor: 'nothing',
    });
    expect(await n.exited).toBe(1);
    expect(n.output).toMatch(/403/);
    expect(n.output).toMatch(/logged out/);
    expect(await agent.api.service('lg-gamma')).toBeUndefined();
    expect(await loginTokens()).toHaveLength(before);
  });

  test.each([
    ['an empty bearer token file', () => jwtFile('empty', ''), [] as string[], /--bearer-token-file: .* is empty/],
    ['a file that holds no JWT', () => jwtFile('garbage', 'not-a-jwt'), [], /does not hold a JWT/],
    [
      '--login-method with a static token',
      () => jwtFile('gamma', jwtFor('lg-gamma')),
      ['--token-file', '/dev/null'],
      /--login-method cannot be combined with --token-file/,
    ],
  ])('%s: usage error, exit 2, nothing registered', async (_what, file, extra, says) => {
    const before = (await loginTokens()).length;
    const n = await MeshNode.start({
      kv: 'meshx/lg/nodes/lg-gamma',
      node: C,
      consulAddr: agent.httpAddr,
      cookie: COOKIE,
      stateDir: stateDir('lg-gamma'),
      extraRunArgs: [...loginArgs(file()), ...extra],
      waitFor: 'nothing',
    });
    expect(await n.exited).toBe(2);
    expect(n.output).toMatch(says);
    expect(await agent.api.service('lg-gamma')).toBeUndefined();
    expect(await loginTokens()).toHaveLength(before);
  });

  test('a revoked token: the helper logs in again (re-reading the JWT file), rewrites the token file, ' +
    'restarts the proxy, and the mesh works', async () => {
    const alpha = nodes.find((n) => n.name === A)!;
    const tokenFile = path.join(stateDir('lg-alpha'), 'consul.token');
    const old = fs.readFileSync(tokenFile, 'utf8').trim();
    const oldProxy = alpha.pidOf('proxy');
    // rotation: the issuer wrote a fresh JWT meanwhile
    jwtFile('alpha', jwtFor('lg-alpha'));
    const tok = (await loginTokens()).find((t) => t.SecretID === old)!;
    expect((await agent.api.request('DELETE', `/v1/acl/token/${tok.AccessorID}`)).status).toBe(200);
    await alpha.waitForLog(/no longer knows token .*; logging in again/, 30000);
    await alpha.waitForLog(/registered lg-alpha again with the new token/, 30000);
    await alpha.waitForLog(/proxy back \(pid \d+\)/, 30000);
    const fresh = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(fresh).not.toBe(old);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(alpha.pidOf('proxy')).not.toBe(oldProxy);
    await remember();
    await waitDiscoverable(agent.api, ['lg-alpha']);
    expect(await until('pong after the new login', async () => (await alpha.ping(B)) === 'pong')).toBe(true);
    expect(await nodes.find((n) => n.name === B)!.ping(A)).toBe('pong');
    expect(await loginTokens()).toHaveLength(2);
  });

  test('no secret (login token, JWT, cookie) in helper logs, state-dir files or process arguments', async () => {
    await remember();
    const tokens = [...loginSecrets, ...jwts, master];
    expect(loginSecrets.size).toBeGreaterThanOrEqual(4); // alpha (twice: renewed), beta, the direct login
    const haystacks: Array<[string, string, string[]]> = [];
    for (const n of nodes) {
      haystacks.push([`logs of ${n.name}`, n.output.split('\n').filter((l) => l.startsWith('[')).join('\n'), [...tokens, COOKIE]]);
      // The test's own erl command line carries -setcookie (support/mesh-node.ts), so the helper's
      // arguments are checked for the tokens and JWTs only.
      for (const [what, pid] of [['helper', n.helperPid], ['proxy', n.pidOf('proxy')]] as const) {
        haystacks.push([`cmdline of the ${what} of ${n.name}`, fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), tokens]);
      }
    }
    for (const svc of ['lg-alpha', 'lg-beta']) {
      const d = stateDir(svc);
      expect(fs.readdirSync(d).sort()).toEqual(['consul.token', 'helper.pid', 'hosts', 'inetrc', 'peers', 'state.json', 'upstreams.env']);
      for (const f of fs.readdirSync(d))
        if (f !== 'consul.token') haystacks.push([`${svc}/${f}`, fs.readFileSync(path.join(d, f), 'utf8'), [...tokens, COOKIE]]);
    }
    expect(haystacks).toHaveLength(2 * 3 + 2 * 6); // per node: logs, helper and proxy arguments; per state dir: 6 files
    for (const [where, text, secrets] of haystacks) for (const s of secrets) expect([where, text.includes(s)]).toEqual([where, false]);
  });

  test('after SIGTERM: logged out (no token of the auth method left), token file and state dir gone, services deregistered', async () => {
    const stopping = nodes.splice(0);
    const pids = stopping.flatMap((n) => [n.helperPid, n.pidOf('proxy'), n.pidOf('beam')]);
    expect(await Promise.all(stopping.map((n) => n.stop('SIGTERM')))).toEqual([0, 0]);
    expect(await waitGone(pids)).toBe(true);
    expect(pids.filter(isAlive)).toEqual([]);
    for (const n of stopping) expect(n.output).toMatch(/logged out \(token accessor [0-9a-f-]+ destroyed\)/);
    expect(await loginTokens()).toEqual([]);
    for (const svc of ['lg-alpha', 'lg-beta']) {
      expect(fs.existsSync(path.join(stateDir(svc), 'consul.token'))).toBe(false);
      expect(await agent.api.service(svc)).toBeUndefined();
    }
  });

  test('terraform destroy removes the auth method, its binding rules and the roles', async () => {
    await deployed.destroy();
    expect(JSON.parse((await agent.api.request('GET', '/v1/acl/auth-methods')).text)).toEqual([]);
    expect(JSON.parse((await agent.api.request('GET', '/v1/acl/binding-rules')).text)).toEqual([]);
    expect(JSON.parse((await agent.api.request('GET', '/v1/acl/roles')).text)).toEqual([]);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loginOptions } from '../../../lib/cli/run';
import { ConsulAgent } from '../../../lib/runtime/consul/agent';
import { InputError, RuntimeFailure } from '../../../lib/runtime/errors';
import { AclLogin, loginRefusal, readBearerToken } from '../../../lib/runtime/consul/login';
import { StateDir } from '../../../lib/runtime/state-dir';
import { fakeAgent } from '../../util';

const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64u({ alg: 'RS256', typ: 'JWT' })}.${b64u({ sub: 'x' })}.c2ln`;

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-login-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

describe('readBearerToken', () => {
  test('a JWT (trailing newline trimmed)', () => {
    expect(readBearerToken(file('t', JWT + '\n'))).toBe(JWT);
  });

  test.each([
    ['missing', null, 'cannot read'],
    ['empty', '  \n', 'is empty'],
    ['not three parts', 'abc.def', 'does not hold a JWT (header.payload.signature, base64url)'],
    ['not base64url', 'a b.c.d', 'does not hold a JWT'],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`, 'its header is not JSON'],
    ['header without alg', `${b64u({ typ: 'JWT' })}.e30.c2ln`, "its header has no 'alg'"],
  ])('%s: InputError naming the flag, without the content', (_what, text, message) => {
    const p = text === null ? path.join(dir, 'none') : file('t', text);
    let err: unknown;
    try {
      readBearerToken(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/^--bearer-token-file: /);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toContain(message);
    if (text?.trim()) expect((err as Error).message).not.toContain(text.trim());
  });
});

describe('loginRefusal (messages of Consul 1.8.7, seen live)', () => {
  test.each([
    [500, 'error validating claims: square/go-jose/jwt: validation failed, token is expired (exp)', 'the JWT has expired'],
    [500, 'no known key successfully validated the token signature', 'not signed by a key the auth method trusts'],
    [500, 'error validating claims: aud claim does not match any bound audience', 'audience (aud)'],
    [500, 'error validating claims: square/go-jose/jwt: validation failed, invalid issuer claim (iss)', 'issuer (iss)'],
    [403, 'Permission denied', "no binding rule of 'm' matches it"],
    [500, "error parsing token: invalid character 'i' looking for beginning of value", 'cannot parse the JWT'],
  ])('%i %s', (status, body, says) => {
    const msg = loginRefusal('m', status, body);
    expect(msg).toContain("login to auth method 'm' refused: ");
    expect(msg).toContain(says);
    expect(msg).toContain(`agent answered ${status}`);
  });
});

describe('loginOptions', () => {
  test('flags, else env; none: undefined', () => {
    const jwt = file('jwt', JWT);
    expect(loginOptions({}, {})).toBeUndefined();
    expect(loginOptions({ loginMethod: 'm', bearerTokenFile: jwt }, {})).toEqual({ method: 'm', bearerTokenFile: jwt });
    expect(loginOptions({}, { MESHX_LOGIN_METHOD: 'e', MESHX_BEARER_TOKEN_FILE: jwt })).toEqual({ method: 'e', bearerTokenFile: jwt });
  });

  test.each<[string, Record<string, string>, Record<string, string>, string]>([
    ['method alone', { loginMethod: 'm' }, {}, '--login-method needs --bearer-token-file'],
    ['file alone', { bearerTokenFile: 'JWT' }, {}, '--bearer-token-file needs --login-method'],
    ['with --token-file', { loginMethod: 'm', bearerTokenFile: 'JWT', tokenFile: '/x' }, {}, '--login-method cannot be combined with --token-file'],
    [
      'with CONSUL_HTTP_TOKEN',
      { loginMethod: 'm', bearerTokenFile: 'JWT' },
      { CONSUL_HTTP_TOKEN: 's' },
      'cannot be combined with $CONSUL_HTTP_TOKEN',
    ],
    [
      'with CONSUL_HTTP_TOKEN_FILE',
      { loginMethod: 'm', bearerTokenFile: 'JWT' },
      { CONSUL_HTTP_TOKEN_FILE: '/x' },
      'cannot be combined with $CONSUL_HTTP_TOKEN_FILE',
    ],
    ['bad method name', { loginMethod: 'a b', bearerTokenFile: 'JWT' }, {}, "--login-method: 'a b' is not an auth method name"],
    ['empty bearer file', { loginMethod: 'm', bearerTokenFile: 'EMPTY' }, {}, 'is empty'],
  ])('%s: usage error (exit 2)', (_what, flags, env, message) => {
    const jwt = file('jwt', JWT);
    const empty = file('empty', '');
    const f = Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, v === 'JWT' ? jwt : v === 'EMPTY' ? empty : v]));
    expect(() => loginOptions(f, env)).toThrow(InputError);
    expect(() => loginOptions(f, env)).toThrow(message);
  });
});

describe('AclLogin', () => {
  test('login posts method, JWT and meta without a token; the agent then uses the secret; logout destroys it', async () => {
    const fake = await fakeAgent((req) =>
      req.url === '/v1/acl/login' ? [200, JSON.stringify({ AccessorID: 'acc-1', SecretID: 'sec-1' })] : [200, 'true'],
    );
    const agent = new ConsulAgent({ address: fake.url });
    const logs: string[] = [];
    const login = new AclLogin({ agent, method: 'm', bearerTokenFile: file('jwt', JWT), node: 'a@h', log: (l) => logs.push(l) });
    await login.login();
    await login.login(); // once
    await agent.registerService({ ID: 'a' });
    await login.logout();
    await login.logout(); // once
    fake.close();
    expect(fake.seen.map((s) => `${s.method} ${s.url} ${s.token ?? '-'}`)).toEqual([
      'POST /v1/acl/login -',
      'PUT /v1/agent/service/register?replace-existing-checks=true sec-1',
      'POST /v1/acl/logout sec-1',
    ]);
    expect(JSON.parse(fake.seen[0].body)).toMatchObject({ AuthMethod: 'm', BearerToken: JWT, Meta: { meshx_node: 'a@h' } });
    expect(logs.join('\n')).toContain('token accessor acc-1');
    expect(logs.join('\n')).not.toMatch(/sec-1|c2ln/);
  });

  test('a refused login is a RuntimeFailure that says why', async () => {
    const fake = await fakeAgent(() => [500, 'error validating claims: square/go-jose/jwt: validation failed, token is expired (exp)']);
    const login = new AclLogin({
      agent: new ConsulAgent({ address: fake.url }),
      method: 'm',
      bearerTokenFile: file('jwt', JWT),
      node: 'a@h',
      log: () => undefined,
    });
    const err = await login.login().catch((e) => e);
    fake.close();
    expect(err).toBeInstanceOf(RuntimeFailure);
    expect(err.message).toContain('the JWT has expired');
  });

  test('a 403 "ACL not found" renews once for concurrent requests (bearer file read again), then they are sent again', async () => {
    let logins = 0;
    const fake = await fakeAgent((req) => {
      if (req.url === '/v1/acl/login') return [200, JSON.stringify({ AccessorID: `acc-${++logins}`, SecretID: `sec-${logins}` })];
      return req.headers['x-consul-token'] === 'sec-1' ? [403, 'ACL not found'] : [200, '{}'];
    });
    const agent = new ConsulAgent({ address: fake.url });
    const jwtFile = file('jwt', JWT);
    const login = new AclLogin({ agent, method: 'm', bearerTokenFile: jwtFile, node: 'a@h', log: () => undefined });
    await login.login();
    const rotated = `${b64u({ alg: 'RS256' })}.${b64u({ sub: 'rotated' })}.c2ln`;
    fs.writeFileSync(jwtFile, rotated);
    agent.onTokenGone(() => login.renew(5000));
    await Promise.all([agent.updateTtl('a:beam', 'passing', 'ok'), agent.updateTtl('a:proxy', 'passing', 'ok')]);
    fake.close();
    expect(logins).toBe(2);
    expect(JSON.parse(fake.seen.filter((s) => s.url === '/v1/acl/login')[1].body).BearerToken).toBe(rotated);
    expect(fake.seen.filter((s) => s.url.startsWith('/v1/agent/check/update') && s.token === 'sec-2')).toHaveLength(2);
  });

  test('"Permission denied" is not a lost token: no new login', async () => {
    const fake = await fakeAgent(() => [403, 'Permission denied']);
    const agent = new ConsulAgent({ address: fake.url, token: 't' });
    const renew = jest.fn(async () => 'x');
    agent.onTokenGone(renew);
    await expect(agent.registerService({ ID: 'b' })).rejects.toThrow('403');
    fake.close();
    expect(renew).not.toHaveBeenCalled();
  });
});

describe('StateDir token file', () => {
  test('0600 whatever the umask, replaced on rewrite, removed with the dir', () => {
    const sd = new StateDir(path.join(dir, 'state'));
    sd.create();
    sd.lock();
    const old = process.umask(0);
    try {
      sd.writeToken('s1');
      sd.writeToken('s2');
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(sd.tokenPath).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(sd.tokenPath, 'utf8')).toBe('s2\n');
    sd.remove();
    expect(fs.existsSync(sd.dir)).toBe(false);
  });
});

import * as net from 'node:net';
import { agentBaseUrl, ConsulAgent, ConsulError } from '../../../lib/runtime/consul/agent';
import { fakeAgent } from '../../util';

describe('ConsulAgent', () => {
  test('kvWatch: a blocking query with index and wait, the X-Consul-Index answered, 404 as a deleted key', async () => {
    const fake = await fakeAgent((req) =>
      req.url!.includes('gone') ? [404, '', { 'X-Consul-Index': '77' }] : [200, '{"m":1}', { 'X-Consul-Index': '42' }],
    );
    const agent = new ConsulAgent({ address: fake.url, token: 'secret-token' });
    expect(await agent.kvWatch('meshx/m/nodes/a', 40, 300)).toEqual({ index: 42, value: '{"m":1}' });
    expect(await agent.kvWatch('meshx/m/nodes/gone', 0, 5)).toEqual({ index: 77, value: undefined });
    fake.close();
    expect(fake.seen.map((s) => s.url)).toEqual(['/v1/kv/meshx/m/nodes/a?raw&index=40&wait=300s', '/v1/kv/meshx/m/nodes/gone?raw&index=0&wait=5s']);
    expect(fake.seen.every((s) => s.token === 'secret-token')).toBe(true);
  });

  test('kvWatch: an aborted signal ends the query; other statuses are errors', async () => {
    const fake = await fakeAgent((req) => (req.url!.includes('denied') ? [403, 'Permission denied'] : [500, 'boom']));
    const agent = new ConsulAgent({ address: fake.url });
    await expect(agent.kvWatch('denied', 0, 1)).rejects.toThrow(/answered 403 .*permission denied/);
    await expect(agent.kvWatch('k', 0, 1, AbortSignal.abort())).rejects.toThrow(/abort/i);
    fake.close();
  });

  test('serviceWatch: at once without a hash, then a hash-based blocking query; 404 as an unknown service', async () => {
    const fake = await fakeAgent((req) => (req.url!.includes('gone') ? [404, ''] : [200, '{"ID":"a"}', { 'X-Consul-ContentHash': 'h2' }]));
    const agent = new ConsulAgent({ address: fake.url, token: 'secret-token' });
    expect(await agent.serviceWatch('shop:a', '', 100)).toEqual({ present: true, hash: 'h2' });
    expect(await agent.serviceWatch('shop:a', 'h1', 100)).toEqual({ present: true, hash: 'h2' });
    expect(await agent.serviceWatch('gone', 'h1', 5)).toEqual({ present: false, hash: '' });
    await expect(agent.serviceWatch('a', '', 1, AbortSignal.abort())).rejects.toThrow(/abort/i);
    fake.close();
    expect(fake.seen.map((s) => s.url)).toEqual([
      '/v1/agent/service/shop%3Aa',
      '/v1/agent/service/shop%3Aa?hash=h1&wait=100s',
      '/v1/agent/service/gone?hash=h1&wait=5s',
    ]);
    expect(fake.seen.every((s) => s.token === 'secret-token')).toBe(true);
  });

  describe('passingMembers', () => {
    const entry = (meta?: Record<string, unknown>) => ({
      Node: { Node: 'agent-1' },
      Service: { ID: 'x', Service: 'shop-api', ...(meta ? { Meta: meta } : {}) },
    });

    test('a blocking query on the instances of the service in the mesh whose sidecar passes, with the token', async () => {
      const fake = await fakeAgent(() => [200, '[]', { 'X-Consul-Index': '88' }]);
      const agent = new ConsulAgent({ address: fake.url, token: 'secret-token' });
      expect(await agent.passingMembers('shop-api', 'shop', 41, 300)).toEqual({ index: 88, nodes: [] });
      expect(await agent.passingMembers('shop-jobs', 'other-mesh', 0, 5)).toEqual({ index: 88, nodes: [] });
      fake.close();
      const urls = fake.seen.map((s) => new URL(s.url, 'http://agent'));
      expect(fake.seen.map((s) => s.method)).toEqual(['GET', 'GET']);
      expect(urls.map((u) => u.pathname)).toEqual(['/v1/health/connect/shop-api', '/v1/health/connect/shop-jobs']);
      // Only passing instances, of the mesh (meta compared exactly), as a blocking query.
      expect(urls.map((u) => [...u.searchParams.entries()])).toEqual([
        [['passing', ''], ['filter', 'Service.Meta.meshx_mesh == "shop"'], ['index', '41'], ['wait', '300s']],
        [['passing', ''], ['filter', 'Service.Meta.meshx_mesh == "other-mesh"'], ['index', '0'], ['wait', '5s']],
      ]);
      // The filter is encoded whole: spaces, quotes and '=' never reach the agent raw.
      expect(fake.seen[0].url).not.toMatch(/[ "]/);
      expect(fake.seen[0].url.split('filter=')[1]).toMatch(/^[^=&]+&index=/);
      expect(fake.seen.every((s) => s.token === 'secret-token')).toBe(true);
    });

    test('the node names in the instances\' erlang_node meta: once each, sorted; instances without one skipped', async () => {
      const body = [
        entry({ erlang_node: 'api@api-3.shop.test', meshx_mesh: 'shop' }),
        entry({ erlang_node: 'api@api-1.shop.test', meshx_mesh: 'shop' }),
        // The same node through two instances (re-registered under another ID): once.
        entry({ erlang_node: 'api@api-3.shop.test', meshx_mesh: 'shop' }),
        entry({ meshx_mesh: 'shop' }),
        entry(),
        { Node: { Node: 'agent-2' } },
        entry({ erlang_node: 42 }),
        entry({ erlang_node: 'api@api-2.shop.test' }),
      ];
      const fake = await fakeAgent(() => [200, JSON.stringify(body), { 'X-Consul-Index': '7' }]);
      const agent = new ConsulAgent({ address: fake.url });
      expect(await agent.passingMembers('shop-api', 'shop', 0, 1)).toEqual({
        index: 7,
        nodes: ['api@api-1.shop.test', 'api@api-2.shop.test', 'api@api-3.shop.test'],
      });
      fake.close();
    });

    test('no X-Consul-Index: index 0 (the watch never sends it back)', async () => {
      const fake = await fakeAgent(() => [200, JSON.stringify([entry({ erlang_node: 'a@h' })])]);
      const agent = new ConsulAgent({ address: fake.url });
      expect(await agent.passingMembers('shop-api', 'shop', 3, 1)).toEqual({ index: 0, nodes: ['a@h'] });
      fake.close();
    });

    test('another status is a ConsulError naming the status and the path; an aborted signal ends the query', async () => {
      const fake = await fakeAgent((req) => (req.url!.includes('denied') ? [403, 'Permission denied'] : [500, 'No cluster leader']));
      const agent = new ConsulAgent({ address: fake.url });
      const failed = agent.passingMembers('shop-api', 'shop', 0, 1);
      await expect(failed).rejects.toThrow(ConsulError);
      await expect(failed).rejects.toThrow(/^Consul agent answered 500 to \/v1\/health\/connect\/shop-api\?passing&filter=.*: No cluster leader$/);
      await expect(agent.passingMembers('denied', 'shop', 0, 1)).rejects.toMatchObject({
        status: 403,
        message: expect.stringMatching(/permission denied/),
      });
      await expect(agent.passingMembers('shop-api', 'shop', 0, 1, AbortSignal.abort())).rejects.toThrow(/abort/i);
      fake.close();
    });
  });

  test('registerCheck: PUT /v1/agent/check/register with the definition', async () => {
    const fake = await fakeAgent(() => [200, '']);
    const agent = new ConsulAgent({ address: fake.url });
    await agent.registerCheck({ ID: 'a:sidecar', ServiceID: 'a', TCP: '127.0.0.1:21000', Interval: '10s' });
    fake.close();
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['PUT /v1/agent/check/register']);
    expect(JSON.parse(fake.seen[0].body)).toEqual({ ID: 'a:sidecar', ServiceID: 'a', TCP: '127.0.0.1:21000', Interval: '10s' });
  });

  test('sends the token header, JSON bodies, raw KV values; 404s are "absent"', async () => {
    const fake = await fakeAgent((req) =>
      req.url!.startsWith('/v1/kv/missing') || req.url!.startsWith('/v1/agent/service/nope')
        ? [404, '']
        : [200, req.url!.startsWith('/v1/kv/') ? 'value' : '{}'],
    );
    const agent = new ConsulAgent({ address: fake.url, token: 'secret-token' });
    await agent.registerService({ ID: 'a' });
    await agent.updateTtl('a:beam', 'passing', 'ok');
    await agent.kvPut('meshx/m/nodes/a', '{"x":1}');
    expect(await agent.kvGet('meshx/m/nodes/a')).toBe('value');
    expect(await agent.kvGet('missing')).toBeUndefined();
    expect(await agent.service('nope')).toBeUndefined();
    await agent.deregisterService('a');
    fake.close();
    expect(fake.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'PUT /v1/agent/service/register?replace-existing-checks=true',
      'PUT /v1/agent/check/update/a%3Abeam',
      'PUT /v1/kv/meshx/m/nodes/a',
      'GET /v1/kv/meshx/m/nodes/a?raw',
      'GET /v1/kv/missing?raw',
      'GET /v1/agent/service/nope',
      'PUT /v1/agent/service/deregister/a',
    ]);
    expect(fake.seen.every((s) => s.token === 'secret-token')).toBe(true);
    expect(JSON.parse(fake.seen[1].body)).toEqual({ Status: 'passing', Output: 'ok' });
    expect(fake.seen[2].body).toBe('{"x":1}');
  });

  test('errors carry the status and say when a token lacks permission', async () => {
    const fake = await fakeAgent(() => [403, 'Permission denied']);
    const agent = new ConsulAgent({ address: fake.url });
    await expect(agent.registerService({})).rejects.toThrow(ConsulError);
    await expect(agent.registerService({})).rejects.toThrow(
      'Consul agent answered 403 to /v1/agent/service/register?replace-existing-checks=true (permission denied: check the token): Permission denied',
    );
    // /agent/self needs agent:read, which a node token may lack: the agent is reachable all the same.
    await expect(agent.waitReachable(1000, () => undefined)).resolves.toEqual({ nodeName: '', version: '' });
    fake.close();
  });

  test('waitReachable retries with backoff, then names the address, the deadline and the attempts', async () => {
    const port = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const logs: string[] = [];
    const t0 = Date.now();
    await expect(new ConsulAgent({ address: `127.0.0.1:${port}` }).waitReachable(1500, (m) => logs.push(m))).rejects.toThrow(
      new RegExp(`cannot reach the Consul agent at http://127\\.0\\.0\\.1:${port} within 2s \\([4-7] attempts\\)`),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(logs[0]).toMatch(/^waiting for the Consul agent at/);
  });

  test('waitReachable says a new reason at once (a fix that changes the failure shows), the same one only every fifth try', async () => {
    let calls = 0;
    const answers: Array<[number, string]> = [[500, 'first reason'], [500, 'first reason'], [500, 'first reason'], [500, 'second reason']];
    const fake = await fakeAgent(() => answers[calls++] ?? [200, '{"Config":{"NodeName":"n"}}']);
    const logs: string[] = [];
    await new ConsulAgent({ address: fake.url }).waitReachable(10_000, (m) => logs.push(m));
    fake.close();
    expect(logs.map((l) => /(first|second) reason/.exec(l)?.[1])).toEqual(['first', 'second']);
  });

  test('reports name and version once the agent answers', async () => {
    let calls = 0;
    const fake = await fakeAgent(() => (++calls < 3 ? [500, 'starting'] : [200, JSON.stringify({ Config: { NodeName: 'n1', Version: '1.8.7' } })]));
    await expect(new ConsulAgent({ address: fake.url }).waitReachable(5000, () => undefined)).resolves.toEqual({ nodeName: 'n1', version: '1.8.7' });
    fake.close();
  });
});

describe('agent addresses', () => {
  test('agent addresses as CONSUL_HTTP_ADDR gives them', () => {
    expect(agentBaseUrl('127.0.0.1:8500')).toBe('http://127.0.0.1:8500');
    expect(agentBaseUrl('127.0.0.1:8501', true)).toBe('https://127.0.0.1:8501');
    expect(agentBaseUrl('http://consul.local:8500/')).toBe('http://consul.local:8500');
    expect(() => agentBaseUrl('unix:///var/run/consul.sock')).toThrow(/unix socket/);
  });
});

describe('ConsulAgent over HTTPS with verify_incoming (as Consul agents with TLS are run)', () => {
  const TLS = require('node:path').join(__dirname, '..', '..', 'fixtures', 'tls');
  const f = (n: string) => require('node:path').join(TLS, n);
  const read = (n: string) => require('node:fs').readFileSync(f(n), 'utf8');
  let server: import('node:https').Server;
  let url: string;

  beforeAll(async () => {
    const https = await import('node:https');
    server = https.createServer(
      {
        cert: read('dc1-server-consul-0.pem'),
        key: read('dc1-server-consul-0-key.pem'),
        ca: read('consul-agent-ca.pem'),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (_req, res) => {
        res.writeHead(200);
        res.end(JSON.stringify({ Config: { NodeName: 'tls-agent', Version: '1.14.11' } }));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  });
  afterAll(() => server.close());

  const client = (tls: object, address = url) => new ConsulAgent({ address, tls, timeoutMs: 3000 });
  const good = { caFile: f('consul-agent-ca.pem'), clientCert: f('dc1-cli-consul-0.pem'), clientKey: f('dc1-cli-consul-0-key.pem') };
  const failure = async (a: ConsulAgent) => {
    try {
      await a.self();
    } catch (e) {
      a.close();
      return ((e as Error & { cause?: Error }).cause ?? (e as Error)).message;
    }
    throw new Error('expected a failure');
  };

  test('the right CA and client certificate reach the agent; the proxy gets the same settings', async () => {
    const a = client(good);
    expect(await a.self()).toEqual({ nodeName: 'tls-agent', version: '1.14.11' });
    expect(a.cliEnv()).toMatchObject({ CONSUL_CACERT: good.caFile, CONSUL_CLIENT_CERT: good.clientCert, CONSUL_CLIENT_KEY: good.clientKey });
    a.close();
    // A server name the certificate carries, dialled by address.
    const named = client({ ...good, serverName: 'server.dc1.consul' });
    expect((await named.self()).nodeName).toBe('tls-agent');
    named.close();
  });

  test('a wrong CA, a missing or foreign client certificate, a wrong server name: each says which', async () => {
    expect(await failure(client({ ...good, caFile: f('other/consul-agent-ca.pem') }))).toMatch(/not trusted by the CA given/);
    expect(await failure(client({ caFile: good.caFile }))).toMatch(/requires a client certificate/);
    expect(await failure(client({ ...good, clientCert: f('other/dc1-cli-consul-0.pem'), clientKey: f('other/dc1-cli-consul-0-key.pem') }))).toMatch(
      /refused our client certificate|closed the TLS connection: .* untrusted client certificate/,
    );
    expect(await failure(client({ ...good, serverName: 'client.dc9.consul' }))).toMatch(/does not name the host dialled \(set --tls-server-name/);
  });

  test('certificate files fixed on disk are read again: the same client reaches the agent, no restart', async () => {
    const fs: typeof import('node:fs') = require('node:fs');
    const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'meshx-agent-tls-'));
    const put = (cert: string, key: string) => {
      fs.copyFileSync(f(cert), `${dir}/cli.pem`);
      fs.copyFileSync(f(key), `${dir}/cli-key.pem`);
    };
    put('other/dc1-cli-consul-0.pem', 'other/dc1-cli-consul-0-key.pem');
    const logs: string[] = [];
    const tls = { ...good, clientCert: `${dir}/cli.pem`, clientKey: `${dir}/cli-key.pem` };
    const a = new ConsulAgent({ address: url, tls, timeoutMs: 3000, log: (m) => logs.push(m) });
    try {
      await expect(a.self()).rejects.toMatchObject({
        cause: { message: expect.stringMatching(new RegExp(`refused our client certificate ${dir}/cli\\.pem .*signed by the CA|closed the TLS`)) },
      });
      put('dc1-cli-consul-0.pem', 'dc1-cli-consul-0-key.pem');
      // Within the second of the last look: the TLS failure itself makes the client look again.
      expect((await a.self()).nodeName).toBe('tls-agent');
      expect(logs).toEqual([`TLS files changed on disk, read again: --client-cert ${dir}/cli.pem, --client-key ${dir}/cli-key.pem`]);
    } finally {
      a.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an expired client certificate: the agent refuses it and the message names the file and its expiry', async () => {
    const { execFileSync } = await import('node:child_process');
    const fs: typeof import('node:fs') = require('node:fs');
    const dir = fs.mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'meshx-agent-expired-'));
    const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const https = await import('node:https');
    let expiredServer: import('node:https').Server | undefined;
    try {
      // A CA whose key we hold (the fixtures' was deleted), and a client certificate of it that expired yesterday.
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
      ossl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=ca']);
      ossl(['req', ...ec, '-keyout', 'cli-key.pem', '-out', 'cli.csr', '-subj', '/CN=cli']);
      fs.writeFileSync(`${dir}/ext.cnf`, 'extendedKeyUsage=clientAuth\n');
      const sign = ['x509', '-req', '-in', 'cli.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'];
      ossl([...sign, '-out', 'cli.pem', '-days', '-1', '-extfile', 'ext.cnf']);
      expiredServer = https.createServer(
        {
          cert: read('dc1-server-consul-0.pem'),
          key: read('dc1-server-consul-0-key.pem'),
          ca: fs.readFileSync(`${dir}/ca.pem`),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (_req, res) => res.end('{}'),
      );
      await new Promise<void>((r) => expiredServer!.listen(0, '127.0.0.1', r));
      const port = (expiredServer.address() as import('node:net').AddressInfo).port;
      const a = client({ caFile: good.caFile, clientCert: `${dir}/cli.pem`, clientKey: `${dir}/cli-key.pem` }, `https://127.0.0.1:${port}`);
      const expired = new RegExp(`refused our client certificate ${dir}/cli\\.pem \\(--client-cert, \\$CONSUL_CLIENT_CERT\\): it expired at \\d{4}-`);
      expect(await failure(a)).toMatch(expired);
    } finally {
      expiredServer?.closeAllConnections();
      await new Promise((r) => (expiredServer ? expiredServer.close(r) : r(undefined)));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('waitReachable gives up at the deadline with the TLS reason', async () => {
    const a = client({ caFile: f('other/consul-agent-ca.pem') });
    await expect(a.waitReachable(500, () => undefined)).rejects.toThrow(/within 1s .*not trusted by the CA given/);
    a.close();
  });
});

describe('ConsulAgent request errors (metrics)', () => {
  test('each failed request is told by kind: error statuses but 404, and requests with no answer', async () => {
    const fake = await fakeAgent((req) => {
      if (req.url!.includes('denied')) return [403, 'Permission denied'];
      if (req.url!.includes('boom')) return [500, 'boom'];
      if (req.url!.includes('bad')) return [400, 'bad request'];
      return [404, ''];
    });
    const kinds: string[] = [];
    const agent = new ConsulAgent({ address: fake.url });
    agent.onRequestError((k) => kinds.push(k));
    for (const p of ['/denied', '/boom', '/bad', '/missing']) await agent.request('GET', p);
    fake.close();
    const gone = new ConsulAgent({ address: fake.url, timeoutMs: 1000 });
    gone.onRequestError((k) => kinds.push(k));
    await expect(gone.request('GET', '/v1/agent/self')).rejects.toThrow(/failed/);
    await expect(agent.request('GET', '/x', undefined, false, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    expect(kinds).toEqual(['forbidden', 'server_error', 'client_error', 'connection']);
    agent.close();
    gone.close();
  });
});

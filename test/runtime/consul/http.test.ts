import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpClient } from '../../../lib/runtime/consul/http';

const listen = (s: http.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

describe('HttpClient', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.setHeader('X-Consul-Index', '42');
        res.statusCode = req.url === '/missing' ? 404 : 200;
        res.end(JSON.stringify({ method: req.method, token: req.headers['x-consul-token'] ?? null, body }));
      });
    });
    port = await listen(server);
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('sends method, headers and body; returns status, text and headers', async () => {
    const c = new HttpClient(`http://127.0.0.1:${port}`);
    const r = await c.request('PUT', '/x', { 'X-Consul-Token': 't' }, '{"a":1}', 5000);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ method: 'PUT', token: 't', body: '{"a":1}' });
    expect(r.headers['x-consul-index']).toBe('42');
    expect((await c.request('GET', '/missing', {}, undefined, 5000)).status).toBe(404);
    c.close();
  });

  it('rejects when no answer comes within the timeout', async () => {
    const c = new HttpClient(`http://127.0.0.1:${port}`);
    await expect(c.request('GET', '/slow', {}, undefined, 200)).rejects.toThrow(/no answer within 200 ms/);
    c.close();
  });

  it('rejects at once when its signal aborts (a stopped blocking query)', async () => {
    const c = new HttpClient(`http://127.0.0.1:${port}`);
    const ac = new AbortController();
    const pending = c.request('GET', '/slow', {}, undefined, 10000, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(c.request('GET', '/slow', {}, undefined, 10000, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    c.close();
  });

  it('rejects with the network error when nothing listens', async () => {
    const c = new HttpClient('http://127.0.0.1:1');
    await expect(c.request('GET', '/', {}, undefined, 2000)).rejects.toThrow(/ECONNREFUSED/);
    c.close();
  });

  describe('https', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-http-test-'));
    const file = (n: string) => fs.readFileSync(path.join(dir, n), 'utf8');
    let tlsServer: https.Server;
    let tlsPort: number;
    beforeAll(async () => {
      const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      ossl([
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.pem',
        '-days',
        '1',
        '-subj',
        '/CN=test CA',
      ]);
      for (const [n, san] of [
        ['server', 'DNS:server.dc1.consul'],
        ['client', 'DNS:client.dc1.consul'],
      ]) {
        ossl([
          'req',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          `${n}.key`,
          '-out',
          `${n}.csr`,
          '-subj',
          `/CN=${n}`,
        ]);
        fs.writeFileSync(path.join(dir, `${n}.cnf`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
        ossl([
          'x509',
          '-req',
          '-in',
          `${n}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${n}.pem`,
          '-days',
          '1',
          '-extfile',
          `${n}.cnf`,
        ]);
      }
      tlsServer = https.createServer(
        { key: file('server.key'), cert: file('server.pem'), ca: file('ca.pem'), requestCert: true, rejectUnauthorized: true },
        (_req, res) => res.end('secure'),
      );
      tlsPort = await listen(tlsServer);
    });
    afterAll(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      return new Promise((r) => tlsServer.close(r));
    });

    it('verifies the server against the CA and the server name, and presents the client certificate', async () => {
      const c = new HttpClient(`https://127.0.0.1:${tlsPort}`, {
        ca: file('ca.pem'),
        cert: file('client.pem'),
        key: file('client.key'),
        servername: 'server.dc1.consul',
      });
      const r = await c.request('GET', '/', {}, undefined, 5000);
      expect([r.status, r.text]).toEqual([200, 'secure']);
      c.close();
    });

    it('refuses a server whose certificate does not match the server name', async () => {
      const c = new HttpClient(`https://127.0.0.1:${tlsPort}`, {
        ca: file('ca.pem'),
        cert: file('client.pem'),
        key: file('client.key'),
        servername: 'other.dc1.consul',
      });
      await expect(c.request('GET', '/', {}, undefined, 5000)).rejects.toThrow(/other\.dc1\.consul/);
      c.close();
    });

    it('refuses a server signed by another CA unless verification is off', async () => {
      const wrongCa = new HttpClient(`https://127.0.0.1:${tlsPort}`, {
        cert: file('client.pem'),
        key: file('client.key'),
        servername: 'server.dc1.consul',
      });
      await expect(wrongCa.request('GET', '/', {}, undefined, 5000)).rejects.toThrow(/certificate/i);
      wrongCa.close();
      const noVerify = new HttpClient(`https://127.0.0.1:${tlsPort}`, {
        cert: file('client.pem'),
        key: file('client.key'),
        rejectUnauthorized: false,
      });
      expect((await noVerify.request('GET', '/', {}, undefined, 5000)).text).toBe('secure');
      noVerify.close();
    });

    it('is refused by a verify_incoming server without a client certificate', async () => {
      const c = new HttpClient(`https://127.0.0.1:${tlsPort}`, { ca: file('ca.pem'), servername: 'server.dc1.consul' });
      await expect(c.request('GET', '/', {}, undefined, 5000)).rejects.toThrow();
      c.close();
    });
  });
});

import * as http from 'node:http';
import * as net from 'node:net';
import { MetricsServer } from '../../../lib/runtime/metrics/server';
import { probeFreePort } from '../../../lib/runtime/ports';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics server', () => {
  const source = { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'meshx_node_upstreams 2\n' };

  test('GET /metrics answers the exposition; other paths 404, other methods 405; stop frees the port', async () => {
    const port = await probeFreePort('127.0.0.1');
    const server = new MetricsServer({ host: '127.0.0.1', port }, source);
    await server.start();
    try {
      expect(await get(port, '/metrics')).toEqual({ status: 200, type: source.contentType, body: 'meshx_node_upstreams 2\n' });
      expect(await get(port, '/metrics?x=1')).toMatchObject({ status: 200 });
      expect(await get(port, '/metrics', 'HEAD')).toMatchObject({ status: 200, body: '' });
      expect(await get(port, '/')).toMatchObject({ status: 404 });
      expect(await get(port, '/metrics', 'POST')).toMatchObject({ status: 405 });
    } finally {
      await server.stop();
    }
    expect(await probeFreePort('127.0.0.1', port)).toBe(port);
    await server.stop(); // twice: nothing left to do
  });

  test('a taken port: the start fails naming the address, nothing listens', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const server = new MetricsServer({ host: '127.0.0.1', port }, source);
      await expect(server.start()).rejects.toThrow(`127.0.0.1:${port} is already in use`);
      await server.stop();
    } finally {
      taken.close();
    }
  });

  test('an address not of this host is named so', async () => {
    const server = new MetricsServer({ host: '192.0.2.1', port: 9102 }, source);
    await expect(server.start()).rejects.toThrow('192.0.2.1:9102 is not an address of this host');
  });

  test('a failing source answers 500', async () => {
    const port = await probeFreePort('127.0.0.1');
    const server = new MetricsServer({ host: '127.0.0.1', port }, { contentType: 'text/plain', metrics: () => Promise.reject(new Error('boom')) });
    await server.start();
    try {
      expect(await get(port, '/metrics')).toMatchObject({ status: 500, body: 'boom\n' });
    } finally {
      await server.stop();
    }
  });
});

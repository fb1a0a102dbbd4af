import * as net from 'node:net';
import { canConnect, isFree, probeFreePort, resolvePort } from '../../lib/runtime/ports';

describe('ports', () => {
  test('resolvePort picks a free port for 0, proves a fixed one free, names a taken one', async () => {
    const p = await resolvePort('f', '127.0.0.1', 0);
    expect(p).toBeGreaterThan(0);
    expect(await isFree('127.0.0.1', p)).toBe(true);
    const s = await new Promise<net.Server>((r) => { const srv = net.createServer().listen(p, '127.0.0.1', () => r(srv)); });
    expect(await canConnect('127.0.0.1', p)).toBe(true);
    await expect(resolvePort('service.distPort', '127.0.0.1', p)).rejects.toThrow(`service.distPort: port ${p} on 127.0.0.1 is already in use`);
    s.close();
    expect(await probeFreePort('127.0.0.1', p)).toBe(p);
  });
});

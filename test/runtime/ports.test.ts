import * as net from 'node:net';
import { canConnect, isFree, pickFreePort, probeFreePort, resolvePort } from '../../lib/runtime/ports';

describe('ports', () => {
  test('pickFreePort never hands out a port already picked on that address (the kernel may repeat one)', async () => {
    const taken = new Set<string>();
    const picks: number[] = [];
    for (let i = 0; i < 40; i++) picks.push(await pickFreePort('127.0.0.1', taken));
    expect(new Set(picks).size).toBe(40);
    expect([...taken].sort()).toEqual(picks.map((p) => `127.0.0.1:${p}`).sort());
  });

  test('resolvePort with a taken set picks around it for 0 and leaves fixed ports alone', async () => {
    const taken = new Set<string>();
    const a = await resolvePort('upstreams[0].port', '127.0.0.1', 0, taken);
    const b = await resolvePort('upstreams[1].port', '127.0.0.1', 0, taken);
    expect(a).not.toBe(b);
    const fixed = await probeFreePort('127.0.0.1');
    expect(await resolvePort('upstreams[2].port', '127.0.0.1', fixed, taken)).toBe(fixed);
  });

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

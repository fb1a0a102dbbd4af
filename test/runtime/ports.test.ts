import * as net from 'node:net';
import {
  canConnect,
  ephemeralRange,
  isFree,
  listenerRange,
  reserveFreePort,
  pickFreePort,
  probeFreePort,
  resolvePort,
} from '../../lib/runtime/ports';

describe('ports', () => {
  test('pickFreePort never hands out a port already picked on that address (the kernel may repeat one)', async () => {
    const taken = new Set<string>();
    const picks: number[] = [];
    for (let i = 0; i < 40; i++) picks.push(await pickFreePort('127.0.0.1', taken));
    expect(new Set(picks).size).toBe(40);
    expect([...taken].sort()).toEqual(picks.map((p) => `127.0.0.1:${p}`).sort());
  });

  test('pickFreePort draws from the listener range, not bind(0), and steps over a port in use', async () => {
    const [lo, hi] = listenerRange();
    const busy = await new Promise<net.Server>((r) => { const srv = net.createServer().listen(lo + 7, '127.0.0.1', () => r(srv)); });
    const busyPort = (busy.address() as net.AddressInfo).port;
    try {
      // The first draw lands on the port in use, the next one elsewhere in the range.
      const next = busyPort === lo ? hi : lo;
      const draws = [(busyPort - lo + 0.5) / (hi - lo + 1), (next - lo + 0.5) / (hi - lo + 1)];
      const p = await pickFreePort('127.0.0.1', new Set(), () => draws.shift() ?? Math.random());
      expect(p).toBe(next);
    } finally {
      busy.close();
    }
  });

  test('pickFreePort gives up after a bounded number of draws, naming the address', async () => {
    const [lo] = listenerRange();
    const taken = new Set([`127.0.0.1:${lo}`]);
    await expect(pickFreePort('127.0.0.1', taken, () => 0)).rejects.toThrow('no free port on 127.0.0.1 outside the 1 already picked after 64 tries');
  });

  test('listener ports come from outside the ephemeral range when there is room (no outgoing connection lands there)', () => {
    expect(listenerRange([32768, 60999])).toEqual([61000, 65535]);
    expect(listenerRange([10000, 65535])).toEqual([5464, 9999]);
    expect(listenerRange([2000, 65535])).toEqual([1024, 1999]);
    expect(listenerRange([1024, 65535])).toEqual([1024, 65535]);
    const [lo, hi] = ephemeralRange();
    const [a, b] = listenerRange();
    expect(b < lo || a > hi || (a === lo && b === hi)).toBe(true);
  });

  test('a reserved port stays bound (another helper cannot draw it) until released', async () => {
    const taken = new Set<string>();
    const r = await reserveFreePort('127.0.0.1', taken);
    expect(taken.has(`127.0.0.1:${r.port}`)).toBe(true);
    expect(await isFree('127.0.0.1', r.port)).toBe(false);
    await r.release();
    await r.release();
    expect(await isFree('127.0.0.1', r.port)).toBe(true);
  });

  test('ephemeralRange reads the kernel range and falls back to the Linux default', () => {
    expect(ephemeralRange(() => '10000\t20000\n')).toEqual([10000, 20000]);
    expect(ephemeralRange(() => 'junk')).toEqual([32768, 60999]);
    expect(ephemeralRange(() => { throw new Error('ENOENT'); })).toEqual([32768, 60999]);
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

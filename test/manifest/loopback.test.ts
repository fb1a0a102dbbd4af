import { assignLoopbackAddresses } from '../../lib/manifest/loopback';
import { isNodeName, isServiceName, splitNodeName, toServiceLabel } from '../../lib/manifest/names';

describe('loopback assignment', () => {
  test('own host is 127.0.0.1, peer hosts get 127.0.0.2.. in sorted order, independent of input order', () => {
    const a = assignLoopbackAddresses('app@b.x', ['app@c.x', 'app@a.x', 'worker@c.x', 'other@b.x']);
    expect([...a.entries()]).toEqual([['b.x', '127.0.0.1'], ['a.x', '127.0.0.2'], ['c.x', '127.0.0.3']]);
    const b = assignLoopbackAddresses('app@b.x', ['other@b.x', 'worker@c.x', 'app@a.x', 'app@c.x']);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  test('253 peer hosts fit, 254 do not', () => {
    const peers = (n: number) => Array.from({ length: n }, (_, i) => `app@h${i}.x`);
    expect(assignLoopbackAddresses('me@me.x', peers(253)).size).toBe(254);
    expect(() => assignLoopbackAddresses('me@me.x', peers(254))).toThrow(/254 distinct peer hosts exceed the 253 loopback addresses/);
  });
});

describe('names', () => {
  test.each(['a@b', 'app@api-1.internal', 'A_b-1@x.y.z', 'app@10.0.0.1'])('node name %s is valid', (n) => expect(isNodeName(n)).toBe(true));
  test.each(['a', 'a@', '@b', 'a@b@c', 'a b@c', 'a@b_c', 'a@.b', 'a@b.'])('node name %s is invalid', (n) => expect(isNodeName(n)).toBe(false));
  test.each(['a', 'shop-orders', 'a1', 'x'.repeat(63)])('service name %s is valid', (n) => expect(isServiceName(n)).toBe(true));
  test.each(['', 'A', '-a', 'a-', 'a_b', 'x'.repeat(64)])('service name %s is invalid', (n) => expect(isServiceName(n)).toBe(false));
  test('splitNodeName and toServiceLabel', () => {
    expect(splitNodeName('app@h.x')).toEqual({ alive: 'app', host: 'h.x' });
    expect(toServiceLabel('Orders API__v2')).toBe('orders-api-v2');
    expect(toServiceLabel('--x--')).toBe('x');
  });
});

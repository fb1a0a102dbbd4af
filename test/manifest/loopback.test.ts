import { assignLoopbackAddresses, loopbackAddressesOfHosts, MAX_PEER_HOSTS, peerAddress } from '../../lib/manifest/loopback';
import { isNodeName, isServiceName, splitNodeName, toServiceLabel } from '../../lib/manifest/names';

describe('loopback assignment', () => {
  test('own host is 127.0.0.1, peer hosts get 127.0.0.2.. in sorted order, independent of input order', () => {
    const a = assignLoopbackAddresses('app@b.x', ['app@c.x', 'app@a.x', 'worker@c.x', 'other@b.x']);
    expect([...a.entries()]).toEqual([['b.x', '127.0.0.1'], ['a.x', '127.0.0.2'], ['c.x', '127.0.0.3']]);
    const b = assignLoopbackAddresses('app@b.x', ['other@b.x', 'worker@c.x', 'app@a.x', 'app@c.x']);
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
  });

  test('from host names: the same addresses as from node names', () => {
    const peers = ['a@h3', 'b@h1', 'c@self', 'd@h3', 'e@h2'];
    const byHosts = loopbackAddressesOfHosts('self', peers.map((p) => p.split('@')[1]));
    expect(byHosts).toEqual(assignLoopbackAddresses('me@self', peers));
    expect([...byHosts]).toEqual([['self', '127.0.0.1'], ['h1', '127.0.0.2'], ['h2', '127.0.0.3'], ['h3', '127.0.0.4']]);
  });

  test('past 127.0.0.254 the numbering carries on through 127.0.0.0/8, .0 and .255 included', () => {
    const peers = (n: number) => Array.from({ length: n }, (_, i) => `app@h${String(i).padStart(4, '0')}.x`);
    const a254 = assignLoopbackAddresses('me@me.x', peers(254));
    expect(a254.get('h0000.x')).toBe('127.0.0.2');
    expect(a254.get('h0252.x')).toBe('127.0.0.254');
    expect(a254.get('h0253.x')).toBe('127.0.0.255');
    const a1000 = assignLoopbackAddresses('me@me.x', peers(1000));
    expect(a1000.size).toBe(1001);
    expect(new Set(a1000.values()).size).toBe(1001);
    expect(['h0253.x', 'h0254.x', 'h0255.x', 'h0509.x', 'h0999.x'].map((h) => a1000.get(h))).toEqual([
      '127.0.0.255',
      '127.0.1.0',
      '127.0.1.1',
      '127.0.1.255',
      '127.0.3.233',
    ]);
    // the first 254 keep what they had with fewer hosts: growing a stack renumbers nothing below
    for (const [h, a] of a254) expect(a1000.get(h)).toBe(a);
  });

  test('peerAddress: consecutive 32-bit addresses from 127.0.0.2 to 127.255.255.254, nothing outside', () => {
    expect(MAX_PEER_HOSTS).toBe(16_777_213);
    expect([0, 252, 253, 254, 65_533, 65_534, MAX_PEER_HOSTS - 1].map(peerAddress)).toEqual([
      '127.0.0.2',
      '127.0.0.254',
      '127.0.0.255',
      '127.0.1.0',
      '127.0.255.255',
      '127.1.0.0',
      '127.255.255.254',
    ]);
    for (const bad of [-1, MAX_PEER_HOSTS, 1.5, NaN]) {
      expect(() => peerAddress(bad)).toThrow(RangeError);
    }
    expect(() => peerAddress(MAX_PEER_HOSTS)).toThrow(
      /peer host 16777213 is outside the 16777213 loopback addresses 127\.0\.0\.2-127\.255\.255\.254/,
    );
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

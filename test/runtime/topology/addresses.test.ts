import { peerAddress } from '../../../lib/manifest/loopback';
import { AddressBook } from '../../../lib/runtime/topology/addresses';

const hosts = (...pairs: Array<[string, string]>) => pairs.map(([host, preferred]) => ({ host, preferred }));

describe('AddressBook: a peer host keeps its loopback address for the helper\'s lifetime', () => {
  test('the first version takes the manifest\'s addresses; the own host is always 127.0.0.1', () => {
    const book = new AddressBook('own.test');
    const got = book.assign(hosts(['b.test', '127.0.0.2'], ['c.test', '127.0.0.3'], ['own.test', '127.0.0.1']));
    expect(Object.fromEntries(got)).toEqual({ 'own.test': '127.0.0.1', 'b.test': '127.0.0.2', 'c.test': '127.0.0.3' });
  });

  test('a new version that renumbers by position moves no existing host', () => {
    const book = new AddressBook('own.test');
    book.assign(hosts(['b.test', '127.0.0.2'], ['c.test', '127.0.0.3']));
    // a.test sorts first, so the synth renumbered everything.
    const now = book.assign(hosts(['a.test', '127.0.0.2'], ['b.test', '127.0.0.3'], ['c.test', '127.0.0.4']));
    expect(now.get('b.test')).toBe('127.0.0.2');
    expect(now.get('c.test')).toBe('127.0.0.3');
    expect(now.get('a.test')).toBe('127.0.0.4');
  });

  test('a removed host\'s address is not given to a new host while fresh ones are left; it returns to its host', () => {
    const book = new AddressBook('own.test');
    book.assign(hosts(['b.test', '127.0.0.2'], ['c.test', '127.0.0.3']));
    const v2 = book.assign(hosts(['b.test', '127.0.0.2'], ['d.test', '127.0.0.3']));
    expect(v2.get('d.test')).toBe('127.0.0.4');
    const v3 = book.assign(hosts(['c.test', '127.0.0.9'], ['d.test', '127.0.0.3']));
    expect(v3.get('c.test')).toBe('127.0.0.3');
    expect(v3.get('d.test')).toBe('127.0.0.4');
  });

  test('reserved addresses of gone hosts are reused only when no fresh one is left; the range is bounded', () => {
    // A book with 300 addresses (127.0.0.2 … 127.0.1.45) stands for the 16,777,213 of 127.0.0.0/8.
    const book = new AddressBook('own.test', 300);
    const many = Array.from({ length: 300 }, (_, i) => [`h${i}.test`, peerAddress(i)] as [string, string]);
    book.assign(hosts(...many));
    const next = book.assign(hosts(...many.slice(1), ['new.test', '127.0.0.2']));
    expect(next.get('new.test')).toBe('127.0.0.2');
    expect(() => book.assign(hosts(...many.slice(1), ['new.test', '127.0.0.2'], ['more.test', '127.0.0.5']))).toThrow(
      /more than 300 distinct peer hosts: no loopback address left/,
    );
  });

  test('new hosts are numbered past 127.0.0.254 (127.0.0.255, 127.0.1.0, …), each keeps its address across versions', () => {
    const book = new AddressBook('own.test');
    // v1: 253 hosts, exactly the old range
    const v1 = Array.from({ length: 253 }, (_, i) => [`h${i}.test`, peerAddress(i)] as [string, string]);
    book.assign(hosts(...v1));
    // v2: the synth renumbered (two hosts sort first) and one old host is gone; the newcomers get fresh addresses
    const renumbered = v1.slice(1).map(([h]) => [h, '127.0.0.9'] as [string, string]);
    const v2 = book.assign(hosts(['a.test', '127.0.0.2'], ['b.test', '127.0.0.3'], ...renumbered));
    expect(v2.get('a.test')).toBe('127.0.0.255');
    expect(v2.get('b.test')).toBe('127.0.1.0');
    for (const [h, a] of v1.slice(1)) expect(v2.get(h)).toBe(a);
    // v3: 1,000 more hosts, preferring addresses already given: numbered on from 127.0.1.1 to 127.0.4.232
    const more = Array.from({ length: 1000 }, (_, i) => [`m${i}.test`, '127.0.0.3'] as [string, string]);
    const v3 = book.assign(hosts(['a.test', '127.0.0.2'], ['b.test', '127.0.0.2'], ...more));
    expect(v3.get('m0.test')).toBe('127.0.1.1');
    expect(v3.get('m999.test')).toBe('127.0.4.232');
    expect(new Set(v3.values()).size).toBe(1002);
    expect([v3.get('a.test'), v3.get('b.test')]).toEqual(['127.0.0.255', '127.0.1.0']);
    // v4: the gone h0 comes back to its address; a manifest's own pick far up the range is taken as it is
    const v4 = book.assign(hosts(['h0.test', '127.0.9.9'], ['far.test', '127.200.0.1'], ['m5.test', '127.0.0.2']));
    expect(Object.fromEntries(v4)).toEqual({ 'h0.test': '127.0.0.2', 'far.test': '127.200.0.1', 'm5.test': '127.0.1.6' });
  });

  test('the own host stays on 127.0.0.1 whatever the manifest says', () => {
    const book = new AddressBook('own.test');
    expect(book.assign(hosts(['own.test', '127.0.1.0'], ['p.test', '127.0.1.0'])).get('own.test')).toBe('127.0.0.1');
  });
});

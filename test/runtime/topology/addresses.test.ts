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
    const book = new AddressBook('own.test');
    const many = Array.from({ length: 253 }, (_, i) => [`h${i}.test`, `127.0.0.${i + 2}`] as [string, string]);
    book.assign(hosts(...many));
    const next = book.assign(hosts(...many.slice(1), ['new.test', '127.0.0.2']));
    expect(next.get('new.test')).toBe('127.0.0.2');
    expect(() => book.assign(hosts(...many.slice(1), ['new.test', '127.0.0.2'], ['more.test', '127.0.0.5']))).toThrow(
      /more than 253 distinct peer hosts/,
    );
  });
});

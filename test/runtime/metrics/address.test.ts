import { formatAddress, isLoopback, parseListenAddress } from '../../../lib/runtime/metrics/address';

describe('--metrics-addr', () => {
  test('a port alone, or with an empty host, listens on 127.0.0.1', () => {
    expect(parseListenAddress('9102')).toEqual({ host: '127.0.0.1', port: 9102 });
    expect(parseListenAddress(':9102')).toEqual({ host: '127.0.0.1', port: 9102 });
  });

  test('a host given is taken as given: loopback or not, IPv4, [IPv6] or localhost', () => {
    expect(parseListenAddress('127.0.0.2:1')).toEqual({ host: '127.0.0.2', port: 1 });
    expect(parseListenAddress('0.0.0.0:65535')).toEqual({ host: '0.0.0.0', port: 65535 });
    expect(parseListenAddress('[::1]:9102')).toEqual({ host: '::1', port: 9102 });
    expect(parseListenAddress('localhost:9102')).toEqual({ host: 'localhost', port: 9102 });
    expect(formatAddress(parseListenAddress('[::]:9102'))).toBe('[::]:9102');
    expect(formatAddress(parseListenAddress('10.0.0.1:9102'))).toBe('10.0.0.1:9102');
  });

  test.each([
    ['', 'is not HOST:PORT'],
    ['host:', 'is not HOST:PORT'],
    ['127.0.0.1:port', 'is not HOST:PORT'],
    ['::1:9102', 'is not HOST:PORT'],
    ['127.0.0.1:0', 'port 0 is not within 1-65535'],
    ['127.0.0.1:65536', 'port 65536 is not within 1-65535'],
    ['metrics.example:9102', "'metrics.example' is not an IPv4 address"],
    ['[127.0.0.1]:9102', "'127.0.0.1' is not an IPv6 address"],
    ['300.1.1.1:9102', "'300.1.1.1' is not an IPv4 address"],
  ])('%j is refused: %s', (text, why) => {
    expect(() => parseListenAddress(text)).toThrow(why);
  });

  test('loopback: 127.0.0.0/8, ::1, localhost', () => {
    for (const h of ['127.0.0.1', '127.3.2.1', '::1', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});

import { Token } from 'cdktf';
import { checkProxyConfig } from '../../lib/constructs/proxy-config';
import { PROXY_CONFIG_OWNED } from '../../lib/manifest/rules';
import { newStack } from '../util';

describe('checkProxyConfig', () => {
  test('returns a plain deep copy of JSON values', () => {
    const given = { handshake_timeout_ms: 5000, telemetry: { statsd_address: '127.0.0.1:8125', tags: ['a', null, true] } };
    const got = checkProxyConfig(newStack(), given);
    expect(got).toEqual(given);
    expect(got).not.toBe(given);
    expect(got!.telemetry).not.toBe(given.telemetry);
  });

  test('none and empty both leave the field out', () => {
    expect(checkProxyConfig(newStack(), undefined)).toBeUndefined();
    expect(checkProxyConfig(newStack(), {})).toBeUndefined();
  });

  test.each(Object.keys(PROXY_CONFIG_OWNED))('refuses the key the helper owns, with the path and why: %s', (key) => {
    expect(() => checkProxyConfig(newStack(), { [key]: 'x' })).toThrow(
      new RegExp(`^\\[test\\] proxyConfig\\.${key} is set by meshx-node and cannot be overridden: \\S`),
    );
  });

  class Thing {}
  const cyclic: any = { a: {} };
  cyclic.a.self = cyclic;
  test.each([
    ['an array', ['x'], /proxyConfig must be an object of JSON values, got an array/],
    ['a string', 'x', /proxyConfig must be an object of JSON values, got a string/],
    ['undefined inside', { a: undefined }, /proxyConfig\.a must be a JSON value .*got undefined/],
    ['a function', { a: () => 1 }, /proxyConfig\.a must be a JSON value .*got a function/],
    ['a bigint', { a: BigInt(1) }, /proxyConfig\.a must be a JSON value .*got a bigint/],
    ['NaN', { a: NaN }, /proxyConfig\.a must be a finite number, got NaN/],
    ['Infinity deep', { a: [1, { b: Infinity }] }, /proxyConfig\.a\[1\]\.b must be a finite number/],
    ['a class instance', { a: new Thing() }, /proxyConfig\.a must be a JSON value .*got an instance of Thing/],
    ['a Date', { a: new Date(0) }, /got an instance of Date/],
    ['a string token', { a: Token.asString({ resolve: () => 'x' }) }, /proxyConfig\.a must be a literal value: the node manifest cannot hold/],
    ['a number token', { a: Token.asNumber({ resolve: () => 1 }) }, /proxyConfig\.a must be a literal value/],
    ['an IResolvable', { a: { resolve: () => 1, creationStack: [] } }, /proxyConfig\.a must be a literal value/],
    ['template syntax', { a: 'x${var.y}' }, /proxyConfig\.a must not contain Terraform template syntax/],
    ['a cycle', cyclic, /nested deeper than 32 levels \(or refers to itself\)/],
    ['an empty key', { '': 1 }, /proxyConfig key '' must be 1 to 128 characters/],
    ['too many keys', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])), /has 65 keys; at most 64/],
  ])('refuses %s, naming the path', (_what, value, message) => {
    expect(() => checkProxyConfig(newStack(), value)).toThrow(message);
  });
});

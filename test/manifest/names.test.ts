import { isNodeName, isServiceName, splitNodeName, toServiceLabel } from '../../lib/manifest/names';

describe('names', () => {
  test('service names are lowercase DNS labels; node names alive@host', () => {
    expect(isServiceName('shop-orders')).toBe(true);
    expect(isServiceName('Shop')).toBe(false);
    expect(isServiceName('a'.repeat(64))).toBe(false);
    expect(isNodeName('app@api-1.internal')).toBe(true);
    expect(isNodeName('app')).toBe(false);
    expect(splitNodeName('app@api-1.internal')).toEqual({ alive: 'app', host: 'api-1.internal' });
  });

  test('labels from arbitrary text', () => {
    expect(toServiceLabel('Orders_API v2')).toBe('orders-api-v2');
    expect(toServiceLabel('---')).toBe('');
  });
});

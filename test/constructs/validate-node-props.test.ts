import { fixedPorts, validateNodeProps } from '../../lib/constructs/validate-node-props';
import { newStack } from '../util';

describe('validateNodeProps', () => {
  test('applies the defaults and splits the node name', () => {
    const v = validateNodeProps(newStack(), 'shop', 'Orders', { nodeName: 'orders@api-1.internal' });
    expect(v).toEqual({
      nodeName: 'orders@api-1.internal', alive: 'orders', host: 'api-1.internal', serviceName: 'shop-orders',
      distPort: 0, sidecarPort: 0, epmdPort: 0, tags: [], meta: {}, ttl: '5m', deregisterCriticalAfter: '1m',
    });
  });

  test.each([
    [{ nodeName: 'no-at-sign' }, /\[test\] nodeName 'no-at-sign' must be 'alive@host'/],
    [{ nodeName: 'a@h', distPort: 4370, epmdPort: 4370 }, /\[test\] distPort and epmdPort are both 4370/],
    [{ nodeName: 'a@h', ttl: 'soon' }, /\[test\] ttl 'soon' must be a duration/],
    [{ nodeName: 'a@h', serviceName: 'x-sidecar-proxy' }, /must not end in '-sidecar-proxy'/],
  ])('fails with the path and the prop: %j', (props, message) => {
    expect(() => validateNodeProps(newStack(), 'shop', 'Orders', props)).toThrow(message);
  });

  test('fixedPorts lists the non-zero ports by field', () => {
    expect(fixedPorts({ distPort: 9100, sidecarPort: 0, epmdPort: 4370 })).toEqual([['distPort', 9100], ['epmdPort', 4370]]);
  });
});

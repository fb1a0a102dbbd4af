import { fixedPorts, validateNodeProps, validateReplicasProps } from '../../lib/constructs/validate-node-props';
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

  test('fixedPorts lists no sidecarPort for a group (it has none)', () => {
    expect(fixedPorts({ distPort: 9100, epmdPort: 0 })).toEqual([['distPort', 9100]]);
  });
});

describe('validateReplicasProps', () => {
  test('applies the defaults: connectReplicas true, ports 0, the derived service name', () => {
    expect(validateReplicasProps(newStack(), 'shop', 'Api', { alive: 'api' })).toEqual({
      alive: 'api', serviceName: 'shop-api', distPort: 0, epmdPort: 0, tags: [], meta: {}, ttl: '5m', deregisterCriticalAfter: '1m',
      connectReplicas: true,
    });
  });

  test('keeps what is given', () => {
    const v = validateReplicasProps(newStack(), 'shop', 'Api', {
      alive: 'API_1', serviceName: 'api', distPort: 9100, epmdPort: 4370, tags: ['t'], meta: { k: 'v' }, ttl: '30s',
      deregisterCriticalAfter: '5m', connectReplicas: false,
    });
    expect(v).toEqual({
      alive: 'API_1', serviceName: 'api', distPort: 9100, epmdPort: 4370, tags: ['t'], meta: { k: 'v' }, ttl: '30s',
      deregisterCriticalAfter: '5m', connectReplicas: false,
    });
  });

  test.each([
    [{ alive: 'a@h' }, /\[test\] alive 'a@h' must be the part of a node name before '@'/],
    [{ alive: 'a b' }, /alive 'a b' must be/],
    [{ alive: 'a', distPort: 4370, epmdPort: 4370 }, /\[test\] distPort and epmdPort are both 4370/],
    [{ alive: 'a', deregisterCriticalAfter: 'never' }, /\[test\] deregisterCriticalAfter 'never' must be a duration/],
  ])('fails with the path and the prop: %j', (props, message) => {
    expect(() => validateReplicasProps(newStack(), 'shop', 'Api', props)).toThrow(message);
  });

  test('fails when no service name can be derived', () => {
    expect(() => validateReplicasProps(newStack(), 'shop', '***', { alive: 'a' })).toThrow(
      /cannot derive a service name from mesh 'shop' and id '\*\*\*'/,
    );
  });
});

import { consulLimitProblems, durationMs, isDuration } from '../../lib/manifest/rules';

describe('manifest rules', () => {
  test('durations', () => {
    expect(durationMs('15s')).toBe(15000);
    expect(durationMs('1m30s')).toBe(90000);
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('2h')).toBe(7200000);
    expect(isDuration('1m30s')).toBe(true);
    expect(isDuration('1.5s')).toBe(false);
  });

  test('what Consul would refuse: TTL under 1s, deregister-after under 1m, sidecar port on the dist or EPMD port', () => {
    const ok = { ttl: '1s', deregisterCriticalAfter: '1m', distPort: 9100, epmdPort: 4370, sidecarPort: 21000 };
    expect(consulLimitProblems(ok)).toEqual([]);
    expect(consulLimitProblems({ ...ok, ttl: '999ms' })).toEqual([['service.ttl', "'999ms' is under Consul's minimum TTL of 1s"]]);
    expect(consulLimitProblems({ ...ok, deregisterCriticalAfter: '59s' })).toEqual([
      ['service.deregisterCriticalAfter', "'59s' is under Consul's minimum of 1m"],
    ]);
    expect(consulLimitProblems({ ...ok, sidecarPort: 9100 })).toEqual([['sidecar.port', 'is the same port as service.distPort (9100)']]);
    expect(consulLimitProblems({ ...ok, sidecarPort: 4370 })).toEqual([['sidecar.port', 'is the same port as epmdPort (4370)']]);
    // Zeros are picked at boot, never equal.
    expect(consulLimitProblems({ ...ok, distPort: 0, epmdPort: 0, sidecarPort: 0 })).toEqual([]);
  });
});

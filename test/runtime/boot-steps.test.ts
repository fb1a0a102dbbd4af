import { bootSteps } from '../../lib/runtime/boot-steps';
import { AclLogin } from '../../lib/runtime/consul/login';
import { PrometheusRecorder } from '../../lib/runtime/metrics/prometheus';
import { validManifest } from '../fixtures/manifests';

const manifest = validManifest();

describe('bootSteps', () => {
  test('proxy set up before the BEAM (undone after it), spawned after it by proxy-ready (overlapped), health after both; --kv: watch last', () => {
    expect(bootSteps({ manifest, kvKey: 'meshx/shop/nodes/shop-orders' } as never).steps.map((st) => st.name)).toEqual([
      'state-dir',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy',
      'beam',
      'proxy-ready',
      'health',
      'watch',
    ]);
  });

  test('--manifest and --from have no watch', () => {
    expect(bootSteps({ manifest } as never).steps.map((st) => st.name)).not.toContain('watch');
  });

  test('a manifest with peer groups is followed without --kv too (its members come and go)', () => {
    const withGroups = { ...manifest, peerGroups: [{ service: 'shop-api', query: 'meshx~shop~' }] };
    expect(bootSteps({ manifest: withGroups } as never).steps.map((st) => st.name).slice(-2)).toEqual(['health', 'watch']);
  });

  test('the login step comes right after the state dir (undone last but one), and only with a login', () => {
    const login = {} as AclLogin;
    expect(bootSteps({ manifest, login } as never).steps.map((s) => s.name)).toEqual([
      'state-dir',
      'login',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy',
      'beam',
      'proxy-ready',
      'health',
    ]);
    expect(bootSteps({ manifest } as never).steps.map((s) => s.name)).toEqual([
      'state-dir',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy',
      'beam',
      'proxy-ready',
      'health',
    ]);
  });

  test('the metrics endpoint comes first (a taken port fails before anything is done; undone last), and only with --metrics-addr', () => {
    const metrics = new PrometheusRecorder({ host: '127.0.0.1', port: 9102 });
    expect(bootSteps({ manifest, metrics } as never).steps.map((s) => s.name).slice(0, 3)).toEqual(['metrics', 'state-dir', 'ports']);
    expect(bootSteps({ manifest } as never).steps.map((s) => s.name)).not.toContain('metrics');
  });
});

import { bootSteps } from '../../lib/runtime/boot-steps';
import { AclLogin } from '../../lib/runtime/consul/login';

describe('bootSteps', () => {
  test('with --kv the manifest watch comes last (started after the BEAM, stopped first); --manifest and --from have none', () => {
    expect(bootSteps({ kvKey: 'meshx/shop/nodes/shop-orders' } as never).steps.map((st) => st.name)).toEqual([
      'state-dir',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy-ready',
      'health',
      'beam',
      'watch',
    ]);
    expect(bootSteps({} as never).steps.map((st) => st.name)).not.toContain('watch');
  });

  test('the login step comes right after the state dir (undone last but one), and only with a login', () => {
    const login = {} as AclLogin;
    expect(bootSteps({ login } as never).steps.map((s) => s.name)).toEqual([
      'state-dir',
      'login',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy-ready',
      'health',
      'beam',
    ]);
    expect(bootSteps({} as never).steps.map((s) => s.name)).toEqual([
      'state-dir',
      'ports',
      'register',
      'epmd',
      'dns',
      'proxy-ready',
      'health',
      'beam',
    ]);
  });
});

import { checkSourceOptions, selectManifest } from '../../lib/cli/manifest-source';
import { InputError } from '../../lib/runtime/errors';
import { validManifest } from '../fixtures/manifests';

describe('manifest sources of run', () => {
  test('exactly one of --manifest, --from with --node, --kv', () => {
    expect(() => checkSourceOptions({})).toThrow(InputError);
    expect(() => checkSourceOptions({ manifest: 'm', kv: 'k' })).toThrow('give only one of --manifest, --kv');
    expect(() => checkSourceOptions({ from: 'out' })).toThrow('--from needs --node NAME');
    expect(() => checkSourceOptions({ manifest: 'm', node: 'n' })).toThrow('--node goes with --from');
    expect(() => checkSourceOptions({ from: 'out', node: 'n' })).not.toThrow();
  });

  test('selects by node name or service name; names what is there otherwise', () => {
    const found = [{ manifest: validManifest(), stack: 's1', kvKey: 'k' }];
    expect(selectManifest(found, 'orders@orders-1.shop.test', 'out').service.id).toBe('shop-orders');
    expect(selectManifest(found, 'shop-orders', 'out').node).toBe('orders@orders-1.shop.test');
    expect(() => selectManifest(found, 'x@y', 'out')).toThrow("--node: no node 'x@y' in out (nodes there: orders@orders-1.shop.test)");
    expect(() => selectManifest([...found, { ...found[0], stack: 's2' }], 'shop-orders', 'out')).toThrow(/is in several stacks of out \(s1, s2\)/);
  });
});

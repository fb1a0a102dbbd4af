import { ManifestKey } from '../../lib/constructs/manifest-key';
import { validManifest } from '../fixtures/manifests';
import { newStack, resources, synthJson } from '../util';

describe('ManifestKey', () => {
  test('one consul_keys resource holding the manifest as plain JSON, deleted on destroy', () => {
    const stack = newStack();
    new ManifestKey(stack, 'M', { key: 'meshx/shop/nodes/shop-orders', manifest: validManifest(), datacenter: 'dc2' });
    const keys = resources(synthJson(stack), 'consul_keys');
    expect(keys).toHaveLength(1);
    expect(keys[0].datacenter).toBe('dc2');
    expect(keys[0].key).toEqual([{ path: 'meshx/shop/nodes/shop-orders', value: JSON.stringify(validManifest()), delete: true }]);
  });
});

import { ManifestError, parseAnyManifest, validateGroupManifest, validateManifest } from '../../lib/manifest/validate';
import { BAD_GROUP_MANIFESTS, validGroupManifest, validManifest } from '../fixtures/manifests';

const fieldOfError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).field;
  }
  throw new Error('no error thrown');
};

describe('group manifest validation', () => {
  test('accepts a valid group manifest; parseAnyManifest tells the kinds apart by `group`', () => {
    const g = validGroupManifest();
    expect(validateGroupManifest(g)).toBe(g);
    expect(parseAnyManifest(JSON.stringify(g))).toEqual(g);
    expect(parseAnyManifest(JSON.stringify(validManifest()))).toEqual(validManifest());
  });

  test.each(BAD_GROUP_MANIFESTS)('refuses %s, naming the field', (_desc, mutation, field) => {
    const m = JSON.parse(JSON.stringify(mutation(validGroupManifest())));
    expect(fieldOfError(() => validateGroupManifest(m, 'kv:g'))).toBe(field);
  });

  test('a node manifest may list peer groups, but not a duplicate, a single upstream or another mesh', () => {
    const m = validManifest();
    m.peerGroups = [{ service: 'shop-api', query: 'meshx~shop~' }];
    expect(validateManifest(m)).toBe(m);
    m.peerGroups = [{ service: 'shop-stock', query: 'meshx~shop~' }];
    expect(fieldOfError(() => validateManifest(m))).toBe('peerGroups[0].service');
    m.peerGroups = [{ service: 'shop-api', query: 'meshx~shop~' }, { service: 'shop-api', query: 'meshx~shop~' }];
    expect(fieldOfError(() => validateManifest(m))).toBe('peerGroups[1].service');
    m.peerGroups = [{ service: 'shop-api', query: 'meshx~shops~' }];
    expect(fieldOfError(() => validateManifest(m))).toBe('peerGroups[0].query');
  });

  test('an older manifest reader is what a group meets: the node schema refuses it (node is required)', () => {
    expect(fieldOfError(() => validateManifest(validGroupManifest()))).toBe('node');
  });
});

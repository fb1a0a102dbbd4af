import { ManifestError, parseManifest, validateManifest } from '../../lib/manifest/validate';
import { BAD_MANIFESTS, validManifest } from '../fixtures/manifests';

describe('manifest validation', () => {
  test('accepts a valid manifest and returns it', () => {
    const m = validManifest();
    expect(validateManifest(m)).toBe(m);
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
  });

  test('accepts fixed ports and an upstream datacenter', () => {
    const m = validManifest();
    m.service.distPort = 9100;
    m.epmdPort = 4370;
    m.sidecar.port = 21000;
    m.upstreams[0].port = 19001;
    m.upstreams[0].datacenter = 'dc2';
    expect(() => validateManifest(m)).not.toThrow();
  });

  test('has at least 30 malformed cases', () => {
    expect(BAD_MANIFESTS.length).toBeGreaterThanOrEqual(30);
  });

  test.each(BAD_MANIFESTS)('refuses %s, naming the field', (_desc, mutation, field) => {
    const text = typeof mutation === 'string' ? mutation : JSON.stringify(mutation(validManifest()));
    let err: unknown;
    try {
      parseManifest(text, 'm.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).field).toBe(field);
    expect((err as Error).message).toContain(`m.json: manifest field '${field}' `);
  });
});

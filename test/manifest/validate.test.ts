import { ManifestError, parseManifest, validateAsJson, validateManifest } from '../../lib/manifest/validate';
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

  test.each(['127.0.0.255', '127.0.1.0', '127.0.1.7', '127.0.1.255', '127.1.2.3', '127.255.255.254'])(
    'accepts a peer host on %s (anywhere in 127.0.0.0/8)',
    (address) => {
      const m = validManifest();
      m.upstreams[1].address = address;
      expect(validateManifest(m).upstreams[1].address).toBe(address);
    },
  );

  test.each([
    [
      '127.0.0.0',
      'has an invalid value (must be an address of 127.0.0.0/8 in dotted decimal without leading zeros, ' + 'not 127.0.0.0 or 127.255.255.255)',
    ],
    ['127.255.255.255', 'has an invalid value (must be an address of 127.0.0.0/8'],
    ['128.0.0.2', 'has an invalid value (must be an address of 127.0.0.0/8'],
    ['127.0.1.07', 'has an invalid value (must be an address of 127.0.0.0/8'],
    ['127.0.0.1', "must not be 127.0.0.1 for peer host 'stock-1.shop.test'"],
    ['127.0.0.2', "is already the address of host 'billing-1.shop.test'"],
  ])('refuses a peer host on %s, naming the field and why', (address, why) => {
    const m = validManifest();
    m.upstreams[1].address = address;
    expect(() => validateManifest(m)).toThrow(`manifest field 'upstreams[1].address' ${why}`);
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

describe('validateAsJson: a built manifest judged as its JSON text', () => {
  test('a valid manifest passes, checked once, as it is', () => {
    const seen: unknown[] = [];
    const m = validManifest();
    validateAsJson(m, (v) => seen.push(v) && validateManifest(v));
    expect(seen).toEqual([m]);
    expect(seen[0]).toBe(m);
  });

  test('an undefined field, which JSON drops, is judged as the text would be', () => {
    const m: any = validManifest();
    m.service.meta.extra = undefined;
    expect(() => validateManifest(m)).toThrow(ManifestError);
    expect(() => validateAsJson(m, validateManifest)).not.toThrow();
  });

  test('a manifest that is bad as JSON too fails with the field', () => {
    const m: any = validManifest();
    m.epmdPort = Number.NaN;
    expect(() => validateAsJson(m, validateManifest)).toThrow(/manifest field 'epmdPort'/);
  });
});

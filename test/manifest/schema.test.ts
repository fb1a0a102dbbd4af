import Ajv from 'ajv';
import { NODE_MANIFEST_SCHEMA } from '../../lib/manifest/schema';
import { validManifest } from '../fixtures/manifests';

describe('manifest JSON Schema', () => {
  test('compiles under ajv strict mode and accepts the valid fixture', () => {
    const check = new Ajv({ strict: true }).compile(NODE_MANIFEST_SCHEMA);
    expect(check(validManifest())).toBe(true);
  });

  test('requires exactly the fields of NodeManifest (the type check keeps them in step; this keeps the printed schema honest)', () => {
    expect([...NODE_MANIFEST_SCHEMA.required].sort()).toEqual(Object.keys(validManifest()).sort());
    expect(Object.keys(NODE_MANIFEST_SCHEMA.properties).sort()).toEqual(Object.keys(validManifest()).sort());
    expect(NODE_MANIFEST_SCHEMA.additionalProperties).toBe(false);
  });
});

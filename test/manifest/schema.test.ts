import Ajv from 'ajv';
import { GROUP_MANIFEST_SCHEMA, NODE_MANIFEST_SCHEMA } from '../../lib/manifest/schema';
import { validGroupManifest, validManifest } from '../fixtures/manifests';

describe('manifest JSON Schema', () => {
  test('compiles under ajv strict mode and accepts the valid fixture', () => {
    const check = new Ajv({ strict: true }).compile(NODE_MANIFEST_SCHEMA);
    expect(check(validManifest())).toBe(true);
    expect(check({ ...validManifest(), peerGroups: [{ service: 'shop-api', query: 'meshx~shop~' }] })).toBe(true);
  });

  test('requires exactly the fields of NodeManifest (the type check keeps them in step; this keeps the printed schema honest)', () => {
    expect([...NODE_MANIFEST_SCHEMA.required].sort()).toEqual(Object.keys(validManifest()).sort());
    // peerGroups is the one optional field: single nodes with no group peer leave it out.
    expect(Object.keys(NODE_MANIFEST_SCHEMA.properties).sort()).toEqual([...Object.keys(validManifest()), 'peerGroups'].sort());
    expect(NODE_MANIFEST_SCHEMA.additionalProperties).toBe(false);
  });

  test('the group schema compiles, accepts the group fixture, and requires all of its fields', () => {
    const check = new Ajv({ strict: true }).compile(GROUP_MANIFEST_SCHEMA);
    expect(check(validGroupManifest())).toBe(true);
    expect([...GROUP_MANIFEST_SCHEMA.required].sort()).toEqual(Object.keys(validGroupManifest()).sort());
    expect(Object.keys(GROUP_MANIFEST_SCHEMA.properties).sort()).toEqual(Object.keys(validGroupManifest()).sort());
  });

  test('each schema refuses the other kind', () => {
    expect(new Ajv({ strict: true }).compile(NODE_MANIFEST_SCHEMA)(validGroupManifest())).toBe(false);
    expect(new Ajv({ strict: true }).compile(GROUP_MANIFEST_SCHEMA)(validManifest())).toBe(false);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { NODE_MANIFEST_SCHEMA } from '../../lib/manifest/schema';
import { BAD_MANIFESTS, validManifest } from '../fixtures/manifests';

// The build compiles the schema to lib/manifest/schema-check.js (scripts/gen-manifest-check.js):
// it must judge every fixture exactly as Ajv compiling the schema at runtime does.
describe('build-time schema check', () => {
  const file = path.join(__dirname, '..', '..', 'lib', 'manifest', 'schema-check.js');
  const runtime = new Ajv({ allErrors: false, strict: true }).compile(NODE_MANIFEST_SCHEMA);

  test('is built', () => {
    expect(fs.existsSync(file)).toBe(true);
  });

  test('accepts the valid manifest', () => {
    const built = require(file);
    expect(built(validManifest())).toBe(true);
  });

  test.each(BAD_MANIFESTS.filter(([, m]) => typeof m !== 'string'))('agrees with runtime Ajv on %s', (_desc, mutation) => {
    const built = require(file);
    const value = (mutation as (m: ReturnType<typeof validManifest>) => unknown)(validManifest());
    const verdict = built(value);
    expect(verdict).toBe(runtime(value));
    expect(built.errors?.[0]?.instancePath).toBe(runtime.errors?.[0]?.instancePath);
    expect(built.errors?.[0]?.keyword).toBe(runtime.errors?.[0]?.keyword);
  });

  test('does not load Ajv itself', () => {
    expect(fs.readFileSync(file, 'utf8')).not.toMatch(/require\("ajv"\)/);
  });
});

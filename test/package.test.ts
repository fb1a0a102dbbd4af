// The npm package as `npm pack` makes it from the last `npm run build`: what a user installs and
// nothing else (no tests, support scripts, benchmarks, examples or TypeScript sources).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

let packed: { files: string[]; read: (file: string) => string } | undefined;
function tarball(): { files: string[]; read: (file: string) => string } {
  if (packed) return packed;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-pack-'));
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8' });
  const name = out.trim().split('\n').pop()!;
  const file = path.join(dir, name);
  const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const files = listing.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  const read = (f: string) => execFileSync('tar', ['-xzOf', file, `package/${f}`], { encoding: 'utf8', maxBuffer: 16 << 20 });
  packed = { files, read };
  return packed;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

describe('npm pack', () => {
  test('ships no tests, support, bench, examples, scripts or TypeScript sources', () => {
    const own = tarball().files.filter((f) => !f.startsWith('node_modules/'));
    expect(own.filter((f) => /^(test|support|bench|examples|scripts|docs|\.ci)\//.test(f))).toEqual([]);
    expect(own.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(own.filter((f) => f.includes('tsbuildinfo') || f.endsWith('.tgz'))).toEqual([]);
  });

  test('ships the compiled library: a .js and a .d.ts for every source in lib/', () => {
    const files = new Set(tarball().files);
    const missing = sources('lib').flatMap((ts) => [ts.replace(/\.ts$/, '.js'), ts.replace(/\.ts$/, '.d.ts')]).filter((f) => !files.has(f));
    expect(missing).toEqual([]);
    expect(sources('lib').length).toBeGreaterThan(50);
  });

  test('ships the helper bundle, its bin, its systemd unit, the bundled dependencies and the jsii assembly', () => {
    const files = new Set(tarball().files);
    const bundled = ['node_modules/ajv/package.json', 'node_modules/commander/package.json'];
    for (const f of ['bin/meshx-node', 'lib/cli/meshx-node.bundle.js', 'systemd/meshx-node@.service', '.jsii', ...bundled]) {
      expect(files.has(f)).toBe(true);
    }
    const jsii = JSON.parse(tarball().read('.jsii'));
    expect([jsii.name, jsii.docs?.stability, jsii.license]).toEqual(['meshx-node', 'experimental', 'Apache-2.0']);
    expect(jsii.types['meshx-node.BeamMesh'].docs.stability).toBe('experimental');
    expect(Object.keys(jsii.types)).toEqual(expect.arrayContaining(['meshx-node.BeamMesh', 'meshx-node.BeamNode']));
  });

  test('ships README, API.md, CHANGELOG.md and the full Apache-2.0 LICENSE', () => {
    const files = new Set(tarball().files);
    for (const f of ['README.md', 'API.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) expect(files.has(f)).toBe(true);
    const license = tarball().read('LICENSE');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.split('\n').length).toBeGreaterThan(190);
    expect(tarball().read('CHANGELOG.md')).toMatch(/^## \[0\.1\.0\]/m);
  });
});

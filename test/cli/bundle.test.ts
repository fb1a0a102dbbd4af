// bin/meshx-node runs lib/cli/meshx-node.bundle.js (scripts/bundle.js): one file that needs
// nothing from lib/ or node_modules at run time, and that the test run refuses when stale.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { validManifest } from '../fixtures/manifests';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'meshx-node');
const { BUNDLE, bundleProblem } = require('../bundle-fresh') as { BUNDLE: string; bundleProblem: (root?: string) => string | undefined };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bundle-'));

/** Runs bin/meshx-node with a preload that records every file loaded through require. */
function runRecording(args: string[]): { code: number | null; out: string; err: string; loaded: string[] } {
  const dir = tmp();
  const preload = path.join(dir, 'record.js');
  const record = path.join(dir, 'loaded.json');
  fs.writeFileSync(
    preload,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  const r = spawnSync(process.execPath, ['-r', preload, BIN, ...args], { encoding: 'utf8', timeout: 30000 });
  const loaded = (JSON.parse(fs.readFileSync(record, 'utf8')) as string[]).filter((f) => f !== preload);
  return { code: r.status, out: r.stdout, err: r.stderr, loaded };
}

describe('bin/meshx-node', () => {
  test('--version and --help answer from the bundle alone', () => {
    const version = runRecording(['--version']);
    expect(version.code).toBe(0);
    expect(version.out.trim()).toBe(require('../../package.json').version);
    // --help adds all four commands, so every command's module runs.
    const help = runRecording(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'manifest', 'env', 'graph']) expect(help.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    for (const r of [version, help]) expect(r.loaded).toEqual([BIN, path.join(ROOT, BUNDLE)]);
  });

  test("run checks a manifest with the bundle's build-time schema check, not Ajv from node_modules", () => {
    const file = path.join(tmp(), 'm.json');
    const m = validManifest();
    delete m.service.name;
    fs.writeFileSync(file, JSON.stringify(m));
    const r = runRecording(['run', '--manifest', file, '--', 'erl']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`meshx-node: ${file}: manifest field 'service.name' is required\n`);
    expect(r.loaded).toEqual([BIN, path.join(ROOT, BUNDLE)]);
  });

  test('the bundle requires only Node built-ins, and Ajv only in the fallback for an unbuilt schema check', () => {
    const text = fs.readFileSync(path.join(ROOT, BUNDLE), 'utf8');
    // Calls only: Ajv's ucs2length helper also holds the text 'require("ajv/dist/…")' as a string.
    const required = [...text.matchAll(/(?<![\w.'"])require\("([^"]+)"\)/g)].map((m) => m[1]);
    const builtin = (id: string) => id.startsWith('node:') || builtinModules.includes(id);
    expect(required.filter((id) => !builtin(id))).toEqual(['ajv']);
    expect(required.filter(builtin).length).toBeGreaterThan(5);
  });
});

describe('test/bundle-fresh.js', () => {
  /** A tree with the bundle, one compiled module and package.json, the bundle `bundleAge` s newer. */
  function tree(bundleAge: number): string {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'lib', 'cli'), { recursive: true });
    const t = Date.now() / 1000 - 100;
    for (const f of ['package.json', 'lib/cli/main.js']) {
      fs.writeFileSync(path.join(root, f), '');
      fs.utimesSync(path.join(root, f), t, t);
    }
    fs.writeFileSync(path.join(root, BUNDLE), '');
    fs.utimesSync(path.join(root, BUNDLE), t + bundleAge, t + bundleAge);
    return root;
  }

  test('accepts a bundle newer than what it is built from', () => {
    expect(bundleProblem(tree(1))).toBeUndefined();
  });

  test('names a missing bundle, and the compiled module or package.json it is older than', () => {
    const missing = tree(1);
    fs.rmSync(path.join(missing, BUNDLE));
    expect(bundleProblem(missing)).toBe(`${BUNDLE} is missing`);
    const stale = tree(-1);
    expect(bundleProblem(stale)).toBe(`${BUNDLE} is older than package.json, lib/cli/main.js`);
    fs.utimesSync(path.join(stale, 'package.json'), new Date(0), new Date(0));
    expect(bundleProblem(stale)).toBe(`${BUNDLE} is older than lib/cli/main.js`);
  });
});

// The two-node example as an app on each CDK an app may bring (cdktn/main.js): cdktf 0.21, and
// CDK Terrain (cdktn 0.24) imported as 'cdktn', under the alias 'cdktf', and under both names
// (two copies). Each app is an npm install from a committed lock (cdktn/<case>/, cached like the
// other language tests); npm must accept meshx-node's peer dependency ranges there (a dry-run
// install of the packed package, no --force, no override for meshx-node), and the synth must be
// the cdktf 0.21 synth of examples/two-nodes resource for resource. Where the app's CDK cannot
// synthesize meshx-node's resources at all, the synth must fail naming the cause and the fix.
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cached, comparedResources, expectSameAsTypescript, readStack, ROOT, run, tmpDir, typescriptSynth } from './support';

const HERE = path.join(ROOT, 'test', 'languages', 'cdktn');

interface Case {
  /** Folder under cdktn/ holding the app's package.json and package-lock.json. */
  readonly dir: string;
  /** What the app imports App and TerraformStack from. */
  readonly module: 'cdktf' | 'cdktn';
  /** What node_modules/cdktf and node_modules/cdktn are ("name version"; absent: undefined). */
  readonly installed: { cdktf: string; cdktn?: string };
}

const WORKING: Case[] = [
  { dir: 'cdktf-0.21', module: 'cdktf', installed: { cdktf: 'cdktf 0.21.0' } },
  { dir: 'plain-cdktn', module: 'cdktn', installed: { cdktf: 'cdktn 0.24.0', cdktn: 'cdktn 0.24.0' } },
  { dir: 'alias', module: 'cdktf', installed: { cdktf: 'cdktn 0.24.0' } },
  { dir: 'two-names', module: 'cdktn', installed: { cdktf: 'cdktn 0.24.0', cdktn: 'cdktn 0.24.0' } },
];

/** The case's npm install (cached per lock file), checked to hold what the case says. */
function install(c: Case): string {
  const files = ['package.json', 'package-lock.json'].map((f) => path.join(HERE, c.dir, f));
  const key = crypto.createHash('sha256').update(files.map((f) => fs.readFileSync(f, 'utf8')).join('\0')).digest('hex').slice(0, 12);
  const deps = cached(`cdk-app-${c.dir}`, key, (dir) => {
    for (const f of files) fs.copyFileSync(f, path.join(dir, path.basename(f)));
    run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir });
  });
  expect({ cdktf: packageAt(deps, 'cdktf'), cdktn: packageAt(deps, 'cdktn') }).toEqual({ cdktn: undefined, ...c.installed });
  return deps;
}

function packageAt(deps: string, name: string): string | undefined {
  const file = path.join(deps, 'node_modules', name, 'package.json');
  if (!fs.existsSync(file)) return undefined;
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  return `${pkg.name} ${pkg.version}`;
}

let tarball: string | undefined;
/** meshx-node as `npm pack` makes it (from what `npm run build` built), packed once per run. */
function packed(): string {
  if (!tarball) {
    const dir = tmpDir('meshx-pack');
    tarball = path.join(dir, run('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: ROOT }).trim().split('\n').pop()!);
  }
  return tarball;
}

/** npm resolves the packed meshx-node into the app's tree: its peer ranges fit (no --force, no override for it). */
function expectNpmAccepts(deps: string): void {
  const out = run('npm', ['install', '--dry-run', '--offline', '--no-save', '--no-audit', '--no-fund', packed()], { cwd: deps });
  expect(out).toMatch(/add meshx-node 0\.1\.0/);
}

/** Runs the app (meshx-node unpacked beside it, the case's install on NODE_PATH) and returns its exit and output. */
function synth(c: Case, deps: string): { status: number | null; stderr: string; outdir: string } {
  const app = tmpDir(`cdk-app-${c.dir}`);
  fs.mkdirSync(path.join(app, 'node_modules', 'meshx-node'), { recursive: true });
  run('tar', ['-xzf', packed(), '-C', path.join(app, 'node_modules', 'meshx-node'), '--strip-components=1']);
  fs.copyFileSync(path.join(HERE, 'main.js'), path.join(app, 'main.js'));
  const outdir = tmpDir(`cdk-synth-${c.dir}`);
  const r = spawnSync(process.execPath, [path.join(app, 'main.js'), outdir, c.module], {
    cwd: ROOT, // as the reference: the default local backend's path is relative to it
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: path.join(deps, 'node_modules') },
    timeout: 300_000,
  });
  return { status: r.status, stderr: r.stderr, outdir };
}

describe('an app on each CDK synthesizes the whole mesh', () => {
  let reference: string;
  beforeAll(() => {
    reference = typescriptSynth();
  });

  for (const c of WORKING) {
    test(`${c.dir}: imports from '${c.module}', synth equal to cdktf 0.21's resource for resource`, () => {
      const deps = install(c);
      expectNpmAccepts(deps);
      const r = synth(c, deps);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const synthesized = readStack(r.outdir);
      const doc = JSON.parse(synthesized);
      const ref = JSON.parse(reference);
      // The metadata names the synthesizing CDK's version; everything else is the same.
      expect(doc['//'].metadata.version).toBe(c.installed.cdktf.split(' ')[1]);
      delete doc['//'].metadata.version;
      delete ref['//'].metadata.version;
      expect(doc).toEqual(ref);
      // Manifests, intentions, ACLs: byte-identical, resource by resource.
      expectSameAsTypescript(synthesized, reference, false);
      expect(Object.keys(comparedResources(synthesized)).length).toBeGreaterThanOrEqual(8);
    }, 600_000);
  }
});

test("cdktn-beside-cdktf: a 'cdktn' app over cdktf 0.21 resources fails at once, naming the cause and the fix", () => {
  const c: Case = { dir: 'cdktn-beside-cdktf', module: 'cdktn', installed: { cdktf: 'cdktf 0.21.0', cdktn: 'cdktn 0.24.0' } };
  const deps = install(c);
  expectNpmAccepts(deps);
  const r = synth(c, deps);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("[two-nodes/Mesh] the stack is a cdktn 0.24.0 stack, but meshx-node and @cdktf/provider-consul load 'cdktf' "
    + 'as cdktf 0.21.0');
  expect(r.stderr).toContain('add "overrides": {"cdktf": "npm:cdktn@0.24.0"} to the app\'s package.json and run npm install again');
  // Failed before synth: nothing written, and not cdktn's own TypeError.
  expect(r.stderr).not.toContain('_resetResolveDiscoveredProviderFeatureUsage is not a function');
  expect(fs.existsSync(path.join(r.outdir, 'stacks', 'two-nodes', 'cdk.tf.json'))).toBe(false);
}, 600_000);

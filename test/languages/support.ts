// Shared by the per-language tests: the TypeScript example's synth (the reference), the parts
// compared, the jsii-pacmak build of this package, and a cache for what the registries serve.
import { execFileSync, ExecFileSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdktf';
import { TwoNodesStack } from '../../examples/two-nodes/stack';

export const ROOT = path.resolve(__dirname, '..', '..');
export const STACK = 'two-nodes';

/** Resource types whose bodies must be byte-identical: manifests, intentions, ACLs (and the service defaults). */
export const COMPARED_TYPES = [
  'consul_keys',
  'consul_config_entry',
  'consul_intention',
  'consul_acl_policy',
  'consul_acl_token',
];

/** A fresh directory under the test run's temp dir (removed by the global teardown). */
export function tmpDir(prefix: string): string {
  const base = process.env.MESHX_TEST_TMP;
  if (!base) throw new Error('MESHX_TEST_TMP is not set (test/global-setup.js sets it)');
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

/** The synthesized cdk.tf.json text of the stack in a cdktf output dir. */
export function readStack(outdir: string): string {
  return fs.readFileSync(path.join(outdir, 'stacks', STACK, 'cdk.tf.json'), 'utf8');
}

/** The TypeScript example, synthesized as examples/two-nodes/main.ts does. */
export function typescriptSynth(): string {
  const outdir = tmpDir('ts-synth');
  const app = new App({ outdir });
  new TwoNodesStack(app, STACK);
  app.synth();
  return readStack(outdir);
}

/** Each compared resource as its exact JSON text, keyed by `type.name`. */
export function comparedResources(stackJson: string): Record<string, string> {
  const doc = JSON.parse(stackJson);
  const out: Record<string, string> = {};
  for (const type of COMPARED_TYPES) {
    for (const [name, body] of Object.entries(doc.resource?.[type] ?? {})) {
      out[`${type}.${name}`] = JSON.stringify(body, null, 2);
    }
  }
  return out;
}

export function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts }).toString();
  } catch (e: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${e.status ?? e.signal}):\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Builds this package (already compiled by `npm run build`) for one jsii-pacmak target into a temp dir. */
export function pacmak(
  target: 'python' | 'go' | 'java',
  extraPackages: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  outdir: string = tmpDir(`pacmak-${target}`),
  extraArgs: string[] = [],
): string {
  run(path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'), ['--target', target, '--outdir', outdir, ...extraArgs, ROOT, ...extraPackages], {
    cwd: ROOT,
    env,
  });
  return outdir;
}

/** Where the language caches live: MESHX_LANG_CACHE, else /var/cache/meshx-node/languages (shared by every run on the machine). */
export function cacheRoot(): string {
  return process.env.MESHX_LANG_CACHE || '/var/cache/meshx-node/languages';
}

/**
 * Runs `fn` holding a lock shared by every test run on the machine (a directory under the cache
 * root holding the owner's pid; a dead owner's lock is taken over), so that concurrent runs never
 * fill or use one cache entry at the same time.
 */
export function withLock<T>(name: string, fn: () => T): T {
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const lock = path.join(cacheRoot(), `${name}.lock`);
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), `${process.pid}\n`);
      break;
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }).trim());
      if (owner > 0 && !alive(owner)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by pid ${owner} for 20 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === 'EPERM';
  }
}

/**
 * A directory that survives test runs, for what the registries serve (a virtualenv, generated
 * bindings, an npm install). `key` names the versions in it; `fill` runs once per key, under a
 * lock, and a dir whose fill did not finish is made again.
 */
export function cached(name: string, key: string, fill: (dir: string) => void): string {
  const dir = path.join(cacheRoot(), `${name}-${key}`);
  const stamp = path.join(dir, '.complete');
  if (fs.existsSync(stamp)) return dir;
  return withLock(`${name}-${key}`, () => {
    if (fs.existsSync(stamp)) return dir;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fill(dir);
    fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
    return dir;
  });
}

/**
 * The checks every language shares: the reference has the manifests, intentions and ACLs of two
 * nodes; each of those resources is byte-identical in the other language's synth; and so is the
 * whole cdk.tf.json (same construct ids, so even the names and metadata paths match) unless
 * `wholeFile` is false.
 */
export function expectSameAsTypescript(synthesized: string, reference: string, wholeFile = true): void {
  const ref = comparedResources(reference);
  const kinds = Object.keys(ref).map((k) => k.split('.')[0]);
  expect(kinds.filter((t) => t === 'consul_keys')).toHaveLength(2);
  expect(kinds.filter((t) => t === 'consul_acl_token')).toHaveLength(2);
  expect(kinds.filter((t) => t === 'consul_acl_policy')).toHaveLength(2);
  const entries = Object.entries(ref).filter(([k]) => k.startsWith('consul_config_entry.')).map(([, v]) => JSON.parse(v).kind);
  expect(entries.filter((k) => k === 'service-intentions')).toHaveLength(2);
  expect(comparedResources(synthesized)).toEqual(ref);
  if (wholeFile) expect(synthesized).toBe(reference);
}

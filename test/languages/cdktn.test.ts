// A CDK Terrain (cdktn 0.24) app composing BeamMesh (cdktn/main.js) against meshx-node as
// published (npm pack), with cdktn installed under the name cdktf in a cached npm install
// (cdktn/package.json, package-lock.json): the resources must be byte-identical to the TypeScript
// example's, and the rest of the document the same but for the cdktn version in its metadata.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cached, comparedResources, expectSameAsTypescript, readStack, ROOT, run, tmpDir, typescriptSynth } from './support';

const HERE = path.join(ROOT, 'test', 'languages', 'cdktn');

test('CDK Terrain: a cdktn 0.24 app composes BeamMesh and synthesizes what the TypeScript example does', () => {
  const files = ['package.json', 'package-lock.json'];
  const key = crypto.createHash('sha256').update(files.map((f) => fs.readFileSync(path.join(HERE, f), 'utf8')).join('\0')).digest('hex').slice(0, 12);
  const deps = cached('cdktn', key, (dir) => {
    for (const f of files) fs.copyFileSync(path.join(HERE, f), path.join(dir, f));
    run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir });
  });
  const cdktf = JSON.parse(fs.readFileSync(path.join(deps, 'node_modules', 'cdktf', 'package.json'), 'utf8'));
  expect([cdktf.name, cdktf.version]).toEqual(['cdktn', '0.24.0']);

  // meshx-node as its npm package carries it (built by `npm run build`), beside the app.
  const app = tmpDir('cdktn-app');
  const tarball = run('npm', ['pack', '--pack-destination', app, '--loglevel=error'], { cwd: ROOT }).trim().split('\n').pop()!;
  fs.mkdirSync(path.join(app, 'node_modules', 'meshx-node'), { recursive: true });
  run('tar', ['-xzf', path.join(app, tarball), '-C', path.join(app, 'node_modules', 'meshx-node'), '--strip-components=1']);
  fs.copyFileSync(path.join(HERE, 'main.js'), path.join(app, 'main.js'));

  const outdir = tmpDir('cdktn-synth');
  // NODE_PATH: meshx-node, the app and the provider resolve cdktf (= cdktn) to the same copy.
  run(process.execPath, [path.join(app, 'main.js'), outdir], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: path.join(deps, 'node_modules') },
  });
  const synthesized = readStack(outdir);
  const reference = typescriptSynth();

  // cdktn writes its own version into the metadata and formats empty objects differently, so the
  // file as a whole is compared parsed, with that one field set aside.
  const doc = JSON.parse(synthesized);
  expect(doc['//'].metadata.version).toBe('0.24.0');
  const ref = JSON.parse(reference);
  expect(ref['//'].metadata.version).toBe('0.21.0');
  delete doc['//'].metadata.version;
  delete ref['//'].metadata.version;
  expect(doc).toEqual(ref);
  // The manifests, intentions and ACLs: byte-identical, resource by resource.
  expectSameAsTypescript(synthesized, reference, false);
  expect(Object.keys(comparedResources(synthesized)).length).toBeGreaterThanOrEqual(8);
}, 600_000);

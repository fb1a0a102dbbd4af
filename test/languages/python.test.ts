// The two-node example written in Python (python/main.py) against meshx-node's wheel, built here
// with jsii-pacmak, and cdktf + the Consul bindings from PyPI in a cached virtualenv: the synth
// must be byte-identical to the TypeScript example's.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cached, expectSameAsTypescript, pacmak, readStack, ROOT, run, tmpDir, typescriptSynth } from './support';

const HERE = path.join(ROOT, 'test', 'languages', 'python');

test('Python: the two-node stack synthesizes what the TypeScript example does', () => {
  const pyVersion = run('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).trim();
  const requirements = path.join(HERE, 'requirements.txt');
  const key = crypto.createHash('sha256').update(fs.readFileSync(requirements)).digest('hex').slice(0, 12);
  const venv = cached('python', `py${pyVersion}-${key}`, (dir) => {
    run('python3', ['-m', 'venv', dir]);
    run(path.join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', requirements]);
  });

  const dist = pacmak('python');
  const wheels = fs.readdirSync(path.join(dist, 'python')).filter((f) => f.endsWith('.whl'));
  expect(wheels).toEqual([expect.stringMatching(/^meshx_node-.*-py3-none-any\.whl$/)]);
  const site = tmpDir('py-site');
  run(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-deps',
    '--target',
    site,
    path.join(dist, 'python', wheels[0]),
  ]);

  const outdir = tmpDir('py-synth');
  // Same working directory as the TypeScript synth: the default local backend path derives from it.
  run(path.join(venv, 'bin', 'python'), [path.join(HERE, 'main.py'), outdir], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: site, PYTHONDONTWRITEBYTECODE: '1' },
  });
  expectSameAsTypescript(readStack(outdir), typescriptSynth());
}, 600_000);

// The two-node example written in Go (go/main.go) against meshx-node's Go module, generated here
// by jsii-pacmak, and the cdktf Go bindings from the Go module proxy (module and build caches kept
// under the language cache): the synth must be byte-identical to the TypeScript example's.
//
// The Go module proxy refuses github.com/cdktf/cdktf-provider-consul-go/consul/v10 (README,
// Limits), so those bindings are generated here too, by the same generator that made the
// published module (jsii-pacmak), from the npm package @cdktf/provider-consul 10.1.2, and used
// through a replace directive, as is meshx-node's own module.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot, expectSameAsTypescript, pacmak, readStack, ROOT, run, tmpDir, typescriptSynth } from './support';

const HERE = path.join(ROOT, 'test', 'languages', 'go');
const CONSUL_GO = 'github.com/cdktf/cdktf-provider-consul-go/consul/v10';

test('Go: the two-node stack synthesizes what the TypeScript example does', () => {
  const env = {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-modcacherw',
    GOMODCACHE: path.join(cacheRoot(), 'go-mod'),
    GOCACHE: path.join(cacheRoot(), 'go-build'),
  };
  const dist = pacmak('go', [path.join(ROOT, 'node_modules', '@cdktf', 'provider-consul')], env);
  const ours = path.join(dist, 'go', 'meshxnode');
  const consul = path.join(dist, 'go', 'consul');
  expect(fs.readFileSync(path.join(ours, 'go.mod'), 'utf8')).toMatch(/^module example\.invalid\/meshx-node-go\/meshxnode$/m);
  expect(fs.readFileSync(path.join(consul, 'go.mod'), 'utf8')).toContain(`module ${CONSUL_GO}\n`);

  const app = tmpDir('go-app');
  fs.copyFileSync(path.join(HERE, 'main.go'), path.join(app, 'main.go'));
  fs.writeFileSync(
    path.join(app, 'go.mod'),
    [
      'module twonodes',
      '',
      'go 1.23',
      '',
      `replace example.invalid/meshx-node-go/meshxnode => ${ours}`,
      '',
      `replace ${CONSUL_GO} => ${consul}`,
      '',
    ].join('\n'),
  );
  run('go', ['mod', 'tidy'], { cwd: app, env });
  // The cdktf bindings at the version the generated modules require.
  expect(fs.readFileSync(path.join(app, 'go.mod'), 'utf8')).toMatch(/github\.com\/hashicorp\/terraform-cdk-go\/cdktf v0\.21\.0$/m);
  run('go', ['build', '-o', 'two-nodes', '.'], { cwd: app, env });

  const outdir = tmpDir('go-synth');
  // Same working directory as the TypeScript synth: the default local backend path derives from it.
  run(path.join(app, 'two-nodes'), [outdir], { cwd: ROOT, env });
  expectSameAsTypescript(readStack(outdir), typescriptSynth());
}, 600_000);

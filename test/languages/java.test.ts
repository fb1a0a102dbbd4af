// The two-node example written in Java (java/TwoNodes.java) against meshx-node's jar, built here
// by jsii-pacmak with Maven, run with the classpath Maven resolves (java/pom.xml): the synth must
// be byte-identical to the TypeScript example's.
//
// Maven Central refuses com.hashicorp:cdktf:0.21.0 and com.hashicorp:cdktf-provider-consul:10.1.2
// (README, Limits), so those two jars are built here, by the same generator that made the
// published ones (jsii-pacmak), from the npm packages cdktf 0.21.0 and @cdktf/provider-consul
// 10.1.2, once per version set, into a cached local repository. Everything else (constructs,
// jsii-runtime, Maven's plugins) comes from Maven Central into a cached local Maven repository.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cached, cacheRoot, expectSameAsTypescript, pacmak, readStack, ROOT, run, tmpDir, typescriptSynth, withLock } from './support';

const HERE = path.join(ROOT, 'test', 'languages', 'java');
const version = (pkg: string): string => JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;

test('Java: the two-node stack synthesizes what the TypeScript example does', () => {
  const m2 = path.join(cacheRoot(), 'maven-repository');
  const mvnArgs = ['--maven-local-repository', m2, '--mvn-define', 'maven.javadoc.skip=true'];
  const key = `cdktf${version('cdktf')}-consul${version('@cdktf/provider-consul')}-pacmak${version('jsii-pacmak')}`;
  const bindings = cached('java-bindings', key, (dir) => {
    const out = tmpDir('pacmak-java-bindings');
    run(path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'), [
      '--target', 'java', '--outdir', out, ...mvnArgs,
      path.join(ROOT, 'node_modules', 'cdktf'), path.join(ROOT, 'node_modules', '@cdktf', 'provider-consul'),
    ], { cwd: ROOT });
    fs.cpSync(path.join(out, 'java'), dir, { recursive: true });
  });
  expect(fs.existsSync(path.join(bindings, 'com', 'hashicorp', 'cdktf', '0.21.0', 'cdktf-0.21.0.jar'))).toBe(true);

  // The local Maven repository holds this run's meshx-node jar from its build to the synth: one
  // run at a time on the machine.
  const outdir = withLock('maven-repository', () => {
    // meshx-node's jar, built against the cached bindings: pacmak adds its output dir as a local
    // Maven repository, so the bindings are linked into it first.
    const out = tmpDir('pacmak-java');
    fs.mkdirSync(path.join(out, 'java', 'com'), { recursive: true });
    fs.symlinkSync(path.join(bindings, 'com', 'hashicorp'), path.join(out, 'java', 'com', 'hashicorp'));
    // A jar from an earlier run must never be taken for this one.
    fs.rmSync(path.join(m2, 'io', 'meshx'), { recursive: true, force: true });
    pacmak('java', [], process.env, out, mvnArgs);
    expect(fs.existsSync(path.join(out, 'java', 'io', 'meshx', 'meshx-node', '0.1.0', 'meshx-node-0.1.0.jar'))).toBe(true);

    const cp = path.join(tmpDir('java-cp'), 'classpath.txt');
    run('mvn', [
      '-B', '-q', '-f', path.join(HERE, 'pom.xml'),
      `-Dmaven.repo.local=${m2}`,
      `-Dmeshx.repo=file://${path.join(out, 'java')}`,
      `-Dbindings.repo=file://${bindings}`,
      'dependency:build-classpath', `-Dmdep.outputFile=${cp}`,
    ], { cwd: ROOT });
    const classpath = fs.readFileSync(cp, 'utf8').trim();
    expect(classpath).toContain('meshx-node-0.1.0.jar');

    const synthDir = tmpDir('java-synth');
    // Same working directory as the TypeScript synth: the default local backend path derives from it.
    run('java', ['-cp', classpath, path.join(HERE, 'TwoNodes.java'), synthDir], { cwd: ROOT });
    return synthDir;
  });
  expectSameAsTypescript(readStack(outdir), typescriptSynth());
}, 900_000);

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { allManifestsFrom, allManifestsInSynth, manifestsFrom, manifestsInSynth } from '../../lib/manifest/extract';
import { findSynthFiles } from '../../lib/synth/reader';
import { validGroupManifest, validManifest } from '../fixtures/manifests';

const synthWith = (values: string[]) => ({
  resource: { consul_keys: Object.fromEntries(values.map((v, i) => [`k${i}`, { key: [{ path: `meshx/m/nodes/${i}`, value: v }] }])) },
});

describe('manifest extraction from synthesized output', () => {
  test('finds manifests in consul_keys values and ignores other keys', () => {
    const found = manifestsInSynth(synthWith([JSON.stringify(validManifest()), 'on', '{"apiVersion":"other"}']), 'st');
    expect(found).toEqual([{ manifest: validManifest(), stack: 'st', kvKey: 'meshx/m/nodes/0' }]);
  });

  test('a broken manifest is an error naming the stack, key and field', () => {
    const bad = { ...validManifest(), epmdPort: -1 };
    expect(() => manifestsInSynth(synthWith([JSON.stringify(bad)]), 'st')).toThrow("st: meshx/m/nodes/0: manifest field 'epmdPort' must be >= 0");
  });

  test('walks a cdktf output dir; accepts a stack dir or the file itself', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-out-'));
    for (const stack of ['one', 'two']) {
      fs.mkdirSync(path.join(out, 'stacks', stack), { recursive: true });
      fs.writeFileSync(
        path.join(out, 'stacks', stack, 'cdk.tf.json'),
        JSON.stringify(synthWith([JSON.stringify({ ...validManifest(), mesh: stack })])),
      );
    }
    expect(findSynthFiles(out).map((f) => path.relative(out, f))).toEqual(['stacks/one/cdk.tf.json', 'stacks/two/cdk.tf.json']);
    expect(manifestsFrom(out).map((f) => [f.stack, f.manifest.mesh])).toEqual([['one', 'one'], ['two', 'two']]);
    expect(manifestsFrom(path.join(out, 'stacks', 'two', 'cdk.tf.json'))).toHaveLength(1);
    expect(() => findSynthFiles(path.join(out, 'nope'))).toThrow('does not exist');
    fs.mkdirSync(path.join(out, 'empty'));
    expect(() => findSynthFiles(path.join(out, 'empty'))).toThrow('no cdk.tf.json under');
  });

  test("group manifests: all* finds them beside nodes'; the node-only functions leave them out", () => {
    const json = synthWith([JSON.stringify(validGroupManifest()), JSON.stringify(validManifest())]);
    expect(allManifestsInSynth(json, 'st')).toEqual([
      { manifest: validGroupManifest(), stack: 'st', kvKey: 'meshx/m/nodes/0' },
      { manifest: validManifest(), stack: 'st', kvKey: 'meshx/m/nodes/1' },
    ]);
    expect(manifestsInSynth(json, 'st')).toEqual([{ manifest: validManifest(), stack: 'st', kvKey: 'meshx/m/nodes/1' }]);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-out-'));
    fs.writeFileSync(path.join(out, 'cdk.tf.json'), JSON.stringify(json));
    expect(allManifestsFrom(out).map((f) => 'group' in f.manifest)).toEqual([true, false]);
    expect(manifestsFrom(out).map((f) => f.manifest.node)).toEqual([validManifest().node]);
  });

  test('a broken group manifest is an error naming the stack, key and field, from the node-only functions too', () => {
    const bad = { ...validGroupManifest(), sidecar: { port: 21000, proxy: 'builtin' } };
    const json = synthWith([JSON.stringify(bad)]);
    expect(() => allManifestsInSynth(json, 'st')).toThrow("st: meshx/m/nodes/0: manifest field 'sidecar.port' must be 0 in a group's manifest");
    expect(() => manifestsInSynth(json, 'st')).toThrow("manifest field 'sidecar.port'");
  });
});

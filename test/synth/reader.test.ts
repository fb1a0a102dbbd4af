import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findSynthFiles, readStacks, readSynth, resourcesOfType } from '../../lib/synth/reader';

describe('synth reader', () => {
  const root = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-reader-'));
  const stack = (name: string, json: unknown) => {
    fs.mkdirSync(path.join(root, 'stacks', name), { recursive: true });
    fs.writeFileSync(path.join(root, 'stacks', name, 'cdk.tf.json'), JSON.stringify(json));
  };
  stack('b', {
    resource: { consul_keys: { k1: { key: [{ path: 'p', value: 'v' }] } }, consul_intention: { i1: { action: 'allow' }, i2: { action: 'deny' } } },
  });
  stack('a', {});

  test('finds stack files under an output dir, sorted; a file is itself; nothing is an error', () => {
    expect(findSynthFiles(root).map((f) => path.relative(root, f))).toEqual(['stacks/a/cdk.tf.json', 'stacks/b/cdk.tf.json']);
    expect(findSynthFiles(path.join(root, 'stacks/a/cdk.tf.json'))).toHaveLength(1);
    expect(() => findSynthFiles(path.join(root, 'nope'))).toThrow(/does not exist/);
    expect(() => findSynthFiles(fs.mkdtempSync(path.join(root, 'empty-')))).toThrow(/no cdk.tf.json under/);
  });

  test('stacks by name, resources by type in file order', () => {
    const stacks = readStacks(root);
    expect(stacks.map((s) => s.stack)).toEqual(['a', 'b']);
    expect(resourcesOfType(stacks[1].json, 'consul_intention')).toEqual([
      { type: 'consul_intention', name: 'i1', body: { action: 'allow' } },
      { type: 'consul_intention', name: 'i2', body: { action: 'deny' } },
    ]);
    expect(resourcesOfType(stacks[0].json, 'consul_keys')).toEqual([]);
  });

  test('broken JSON names the file', () => {
    const f = path.join(root, 'broken.json');
    fs.writeFileSync(f, '{');
    expect(() => readSynth(f)).toThrow(`${f} is not valid JSON`);
  });
});

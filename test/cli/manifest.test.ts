import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validManifest } from '../fixtures/manifests';
import { cli } from '../fixtures/cli';

describe('meshx-node manifest', () => {
  test('--schema prints the schema; --from prints the manifests, --node one of them', async () => {
    expect(JSON.parse((await cli(['manifest', '--schema'])).out).title).toBe('meshx-node node manifest v1');
    const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-mf-'));
    const synth = path.join(dir, 'cdk.tf.json');
    fs.writeFileSync(synth, JSON.stringify({ resource: { consul_keys: { k: { key: [{ path: 'p', value: JSON.stringify(validManifest()) }] } } } }));
    expect(JSON.parse((await cli(['manifest', '--from', synth])).out)).toEqual([validManifest()]);
    expect(JSON.parse((await cli(['manifest', '--from', synth, '--node', 'shop-orders'])).out)).toEqual(validManifest());
    const missing = await cli(['manifest']);
    expect([missing.code, missing.err]).toEqual([2, 'meshx-node: --from is required (or --schema)\n']);
  });
});

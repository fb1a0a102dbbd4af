import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asInput, checkSourceOptions, manifestFromFile, manifestFromKv, selectManifest } from '../../lib/cli/manifest-source';
import { isGroupManifest, NodeManifest } from '../../lib/manifest/types';
import { ManifestError, validateGroupManifest, validateManifest } from '../../lib/manifest/validate';
import { ConsulAgent } from '../../lib/runtime/consul/agent';
import { InputError, RuntimeFailure } from '../../lib/runtime/errors';
import { BAD_GROUP_MANIFESTS, validGroupManifest, validManifest } from '../fixtures/manifests';

describe('manifest sources of run', () => {
  test('exactly one of --manifest, --from with --node, --kv', () => {
    expect(() => checkSourceOptions({})).toThrow(InputError);
    expect(() => checkSourceOptions({ manifest: 'm', kv: 'k' })).toThrow('give only one of --manifest, --kv');
    expect(() => checkSourceOptions({ from: 'out' })).toThrow('--from needs --node NAME');
    expect(() => checkSourceOptions({ manifest: 'm', node: 'n' })).toThrow('--node goes with --from');
    expect(() => checkSourceOptions({ from: 'out', node: 'n' })).not.toThrow();
  });

  test('selects by node name or service name; names what is there otherwise', () => {
    const found = [{ manifest: validManifest(), stack: 's1', kvKey: 'k' }];
    expect((selectManifest(found, 'orders@orders-1.shop.test', 'out') as NodeManifest).service.id).toBe('shop-orders');
    expect((selectManifest(found, 'shop-orders', 'out') as NodeManifest).node).toBe('orders@orders-1.shop.test');
    expect(() => selectManifest(found, 'x@y', 'out')).toThrow("--node: no node 'x@y' in out (nodes there: orders@orders-1.shop.test)");
    expect(() => selectManifest([...found, { ...found[0], stack: 's2' }], 'shop-orders', 'out')).toThrow(/is in several stacks of out \(s1, s2\)/);
  });

  test("a group is selected as alive@* or by its service name, and named so when missing", () => {
    const found = [{ manifest: validManifest(), stack: 's1', kvKey: 'k' }, { manifest: validGroupManifest(), stack: 's1', kvKey: 'g' }];
    expect(selectManifest(found, 'api@*', 'out')).toEqual(validGroupManifest());
    expect(selectManifest(found, 'shop-api', 'out')).toEqual(validGroupManifest());
    expect(() => selectManifest(found, 'web@*', 'out')).toThrow('(nodes there: orders@orders-1.shop.test, api@*)');
  });
});

describe("a node's or a group's manifest", () => {
  let dir: string;
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  beforeAll(() => (dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-src-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("manifestFromFile reads a group's manifest as a group's, validated", () => {
    const m = manifestFromFile(write('group.json', validGroupManifest()));
    expect(isGroupManifest(m)).toBe(true);
    expect(m).toEqual(validateGroupManifest(validGroupManifest()));
  });

  test("manifestFromFile still reads a node's manifest as a node's", () => {
    const m = manifestFromFile(write('node.json', validManifest()));
    expect(isGroupManifest(m)).toBe(false);
    expect(m).toEqual(validateManifest(validManifest()));
  });

  // A file without `group` is a node's manifest (test/manifest covers which one a value is).
  const badFiles = BAD_GROUP_MANIFESTS.filter(([d]) => d !== 'missing group').map(([d, mutate, field]) => [d, field, mutate] as const);
  test.each(badFiles)("manifestFromFile refuses a group's manifest with %s, naming '%s'", (_d, field, mutate) => {
    const file = write(`bad-${field}.json`, mutate(validGroupManifest()));
    let err: unknown;
    try {
      manifestFromFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain(`'${field}'`);
  });

  test("manifestFromKv reads a group's manifest from its key", async () => {
    const asked: string[] = [];
    const agent = { kvGet: async (key: string) => (asked.push(key), JSON.stringify(validGroupManifest())) } as unknown as ConsulAgent;
    const m = await manifestFromKv(agent, 'meshx/shop/groups/shop-api');
    expect(isGroupManifest(m)).toBe(true);
    expect(asked).toEqual(['meshx/shop/groups/shop-api']);
    const bad = { kvGet: async () => JSON.stringify({ ...validGroupManifest(), node: 'api@h.x' }) } as unknown as ConsulAgent;
    await expect(manifestFromKv(bad, 'meshx/shop/groups/shop-api')).rejects.toThrow(InputError);
    await expect(manifestFromKv(bad, 'meshx/shop/groups/shop-api')).rejects.toThrow(/kv:meshx\/shop\/groups\/shop-api: manifest field 'node'/);
    const gone = { kvGet: async () => undefined } as unknown as ConsulAgent;
    await expect(manifestFromKv(gone, 'k')).rejects.toThrow('--kv: no key k in Consul KV');
    const down = { kvGet: async () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as ConsulAgent;
    await expect(manifestFromKv(down, 'k')).rejects.toThrow(RuntimeFailure);
  });

  test('asInput turns a manifest error or any error into an input error, and passes a value through', () => {
    expect(asInput(() => 42)).toBe(42);
    const input = new InputError('as is');
    expect(() => asInput(() => {
      throw input;
    })).toThrow(input);
    expect(() => asInput(() => {
      throw new ManifestError('service.id', 'is bad');
    })).toThrow(InputError);
    expect(() => asInput(() => {
      throw new Error('plain');
    })).toThrow(new InputError('plain'));
  });
});

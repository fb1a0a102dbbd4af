import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeManifestOf } from '../../lib/cli/run';
import { replicaServiceId } from '../../lib/manifest/replicas';
import { GroupManifest, NodeManifest } from '../../lib/manifest/types';
import { validateGroupManifest, validateManifest } from '../../lib/manifest/validate';
import { InputError } from '../../lib/runtime/errors';
import { cli } from '../fixtures/cli';
import { validGroupManifest, validManifest } from '../fixtures/manifests';

// Everything `run` refuses before reaching the agent (the agent-side cases run against a real
// agent in test/integration/cli.test.ts).
describe('meshx-node run: refused before anything starts', () => {
  test.each([
    ['a missing --', ['run', '--manifest', 'm.json', 'erl'], 'put the BEAM command after --: meshx-node run ... -- erl'],
    ['no manifest source', ['run', '--', 'sh'], 'give the manifest with one of --manifest FILE, --from CDKTF_OUT --node NAME, or --kv KEY'],
    ['a unix socket agent address', ['run', '--kv', 'k', '--consul-addr', 'unix:///x.sock', '--', 'sh'], '--consul-addr: unix socket agent addresses are not supported: unix:///x.sock'],
    ['a bad stop timeout', ['run', '--kv', 'k', '--stop-timeout', '-1', '--', 'sh'], "--stop-timeout must be a positive number of seconds, got '-1'"],
    ['a negative drain timeout', ['run', '--kv', 'k', '--drain-timeout', '-1', '--', 'sh'],
      "--drain-timeout must be 0 (off) or a number of seconds, got '-1'"],
    ['a drain timeout that is no number', ['run', '--kv', 'k', '--drain-timeout', 'soon', '--', 'sh'],
      "--drain-timeout must be 0 (off) or a number of seconds, got 'soon'"],
  ])('%s: exit 2', async (_d, args, message) => {
    const r = await cli(args, { PATH: process.env.PATH });
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
  });
});

describe('nodeManifestOf: the manifest this run boots', () => {
  const group = (): GroupManifest => validateGroupManifest(validGroupManifest());
  const node = (): NodeManifest => validateManifest(validManifest());
  // The module object run.ts reads os.hostname() from (a namespace import copies nothing).
  const osModule = require('node:os') as typeof os;
  afterEach(() => jest.restoreAllMocks());

  test("a group's manifest with --node-name: that replica's node manifest, valid, its own service ID and meta", () => {
    const name = 'api@api-5.shop.test';
    const m = nodeManifestOf(group(), { nodeName: name }, ['erl'], {});
    expect(validateManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(m.node).toBe(name);
    expect(m.service.id).toBe(replicaServiceId('shop-api', name));
    expect(m.service.name).toBe('shop-api');
    expect(m.service.meta).toEqual({ ...group().service.meta, erlang_node: name });
    expect(m.peerGroups).toEqual(group().peerGroups);
    expect(m.upstreams).toEqual(group().upstreams);
    expect((m as unknown as { group?: unknown }).group).toBeUndefined();
    // Two replicas never share a service ID.
    expect(nodeManifestOf(group(), { nodeName: 'api@api-6.shop.test' }, ['erl'], {}).service.id).not.toBe(m.service.id);
  });

  test("a group's manifest without --node-name: the command's name, else this host's name", () => {
    const hostname = jest.spyOn(osModule, 'hostname').mockReturnValue('api-7.shop.test');
    expect(nodeManifestOf(group(), {}, ['erl', '-name', 'api@api-3.shop.test'], {}).node).toBe('api@api-3.shop.test');
    expect(nodeManifestOf(group(), {}, ['erl'], {}).node).toBe('api@api-7.shop.test');
    expect(nodeManifestOf(group(), {}, ['erl', '-sname', 'api'], {}).node).toBe('api@api-7');
    expect(nodeManifestOf(group(), {}, ['erl'], { ERL_AFLAGS: '-sname api' }).service.id).toBe(replicaServiceId('shop-api', 'api@api-7'));
    expect(hostname).toHaveBeenCalled();
  });

  test("a replica on the host of a single-node peer reaches it on 127.0.0.1", () => {
    const m = nodeManifestOf(group(), { nodeName: 'api@db-1.shop.test' }, ['erl'], {});
    expect(m.upstreams).toEqual([{ ...group().upstreams[0], address: '127.0.0.1' }]);
  });

  test("a group's manifest with a name that is not one of its replicas: an input error", () => {
    expect(() => nodeManifestOf(group(), { nodeName: 'web@api-5.shop.test' }, ['erl'], {})).toThrow(InputError);
    expect(() => nodeManifestOf(group(), { nodeName: 'web@api-5.shop.test' }, ['erl'], {})).toThrow(/is not a replica of group 'shop-api'/);
    expect(() => nodeManifestOf(group(), { nodeName: 'api@a.x' }, ['erl', '-name', 'api@b.x'], {})).toThrow(
      /the command's -name names the node 'api@b\.x', but this node is 'api@a\.x'/,
    );
  });

  test("a node's manifest: as read; --node-name must be its node", () => {
    const m = node();
    expect(nodeManifestOf(m, {}, ['erl'], {})).toBe(m);
    expect(nodeManifestOf(m, { nodeName: m.node }, ['erl'], {})).toBe(m);
    const wrong = () => nodeManifestOf(m, { nodeName: 'orders@elsewhere.shop.test' }, ['erl'], {});
    expect(wrong).toThrow(InputError);
    expect(wrong).toThrow(
      "--node-name: 'orders@elsewhere.shop.test' is not the manifest's node 'orders@orders-1.shop.test' (--node-name is for a group's replicas)",
    );
  });

  // A replica's service ID adds 9 characters to the group's service name: a name over 54 is
  // refused with the group, naming 'service.name', not when a replica runs.
  test("a group whose service name leaves no room for a replica's ID is refused, naming service.name", () => {
    const g = validGroupManifest();
    g.service.name = `shop-${'a'.repeat(58)}`;
    g.peerGroups[0].service = g.service.name;
    let err: unknown;
    try {
      nodeManifestOf(validateGroupManifest(g), { nodeName: 'api@api-5.shop.test' }, ['erl'], {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeDefined();
    expect((err as Error).message).toMatch(/'service\.name'/);
  });
});

describe('meshx-node run with a group manifest: refused before anything starts', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-run-group-'));
    fs.writeFileSync(path.join(dir, 'group.json'), JSON.stringify(validGroupManifest()));
    fs.writeFileSync(path.join(dir, 'node.json'), JSON.stringify(validManifest()));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['a --node-name of another group', 'group.json', ['--node-name', 'web@h.shop.test'], "'web@h.shop.test' is not a replica of group 'shop-api'"],
    ['a --node-name that is no node name', 'group.json', ['--node-name', 'api'], "--node-name: 'api' is not a node name (alive@host)"],
    ["a node's manifest with another --node-name", 'node.json', ['--node-name', 'api@h.shop.test'], "is not the manifest's node"],
  ])('%s: exit 2', async (_d, file, extra, message) => {
    const r = await cli(['run', '--manifest', path.join(dir, file), ...extra, '--', 'sh'], { PATH: process.env.PATH });
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateManifest } from '../../../lib/manifest/validate';
import { ConsulAgent } from '../../../lib/runtime/consul/agent';
import { EpmdServer } from '../../../lib/runtime/epmd/server';
import { LiveRegistration } from '../../../lib/runtime/live-registration';
import { RunOptions } from '../../../lib/runtime/run-options';
import { StateDir } from '../../../lib/runtime/state-dir';
import { TopologyFollower } from '../../../lib/runtime/topology/follow';
import { LiveNode } from '../../../lib/runtime/topology/apply';
import { LiveFiles, versionOf } from '../../../lib/runtime/topology/outputs';
import { validManifest } from '../../fixtures/manifests';
import { fakeAgent } from '../../util';

const SOURCE = 'kv:meshx/shop/nodes/shop-orders';

describe('TopologyFollower', () => {
  let dir: string;
  let node: LiveNode;
  let registration: LiveRegistration;
  let files: LiveFiles;
  let boot: LiveRegistration['manifest'];
  let logs: string[];
  let epmd: EpmdServer;
  let fake: Awaited<ReturnType<typeof fakeAgent>>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-follow-'));
    logs = [];
    // An agent that fails every registration: an apply never gets past it.
    fake = await fakeAgent(() => [500, 'agent is sad']);
    const m = validateManifest(validManifest());
    boot = m;
    epmd = new EpmdServer({ port: 0, addresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], peers: [] });
    await epmd.start();
    const o = {
      manifest: m,
      agent: new ConsulAgent({ address: fake.url }),
      log: (l: string) => logs.push(l),
      proxyKind: 'builtin',
      readyTimeoutMs: 1000,
    } as unknown as RunOptions;
    registration = new LiveRegistration(o, { distPort: 9100, sidecarPort: 21000, upstreams: m.upstreams.map((u, i) => ({ ...u, port: 30001 + i })) });
    const dns = { port: 5353, setHosts: () => undefined };
    files = new LiveFiles(new StateDir(dir), { registration, epmdPort: epmd.port, dns }, versionOf(m, SOURCE));
    node = { o, registration, epmd, proxy: {} as LiveNode['proxy'], files };
  });

  afterEach(async () => {
    fake.close();
    await epmd.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const state = () => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));

  test('the version the node booted with: unchanged, its KV index recorded in state.json', async () => {
    const f = new TopologyFollower(node, SOURCE);
    expect(await f.onVersion(JSON.stringify(validManifest()), 17)).toBe('unchanged');
    expect(state().version).toMatchObject({ source: SOURCE, index: 17, sha256: files.version.sha256 });
    expect(logs).toEqual([]);
  });

  test.each([
    ['invalid JSON', '{"apiVersion":', /kv:meshx\/shop\/nodes\/shop-orders: manifest field '\(root\)' is not valid JSON/],
    ['a deleted key', undefined, /the key was deleted/],
    ["another node's manifest", JSON.stringify({ ...validManifest(), node: 'audit@audit-1.shop.test' }), /manifest field 'node' changed/],
  ])('%s is refused with a log line and state.json says so; the live version stays', async (_what, text, why) => {
    const f = new TopologyFollower(node, SOURCE);
    expect(await f.onVersion(text, 21)).toBe('refused');
    expect(logs).toEqual([
      expect.stringMatching(new RegExp(`^manifest version 21 refused: .*${why.source}.*; still on the boot's version \\(sha256 [0-9a-f]{12}\\)$`)),
    ]);
    expect(state().refused).toMatchObject({ index: 21, reason: expect.stringMatching(why) });
    expect(state().version.sha256).toBe(files.version.sha256);
    expect(registration.manifest).toBe(boot);
  });

  test('a valid version the agent cannot take: failed (tried again), nothing switched, no secrets in the log', async () => {
    const next = validManifest();
    next.upstreams.push({ node: 'audit@audit-1.shop.test', service: 'shop-audit', address: '127.0.0.4', port: 0 });
    const f = new TopologyFollower(node, SOURCE);
    const before = registration.ports;
    expect(await f.onVersion(JSON.stringify(next), 30)).toBe('failed');
    expect(logs).toEqual([
      expect.stringMatching(
        /^manifest version 30 not applied: Consul agent answered 500 .*agent is sad; still on the boot's version .*, trying again$/,
      ),
    ]);
    expect(registration.ports).toBe(before);
    expect(registration.manifest).toBe(boot);
    // The registration was attempted with the new upstream, then the old one restored.
    const regs = fake.seen
      .filter((s) => s.url.startsWith('/v1/agent/service/register'))
      .map((s) => JSON.parse(s.body).Connect.SidecarService.Proxy.Upstreams.length);
    expect(regs).toEqual([3, 2]);
  });
});

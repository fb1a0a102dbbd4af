import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateManifest } from '../../../lib/manifest/validate';
import { ConsulAgent } from '../../../lib/runtime/consul/agent';
import { BootContext } from '../../../lib/runtime/context';
import { EpmdServer } from '../../../lib/runtime/epmd/server';
import { StateDir } from '../../../lib/runtime/state-dir';
import { TopologyFollower } from '../../../lib/runtime/topology/follow';
import { versionOf } from '../../../lib/runtime/topology/outputs';
import { validManifest } from '../../fixtures/manifests';
import { fakeAgent } from '../../util';

const SOURCE = 'kv:meshx/shop/nodes/shop-orders';

describe('TopologyFollower', () => {
  let dir: string;
  let ctx: BootContext;
  let logs: string[];
  let epmd: EpmdServer;
  let fake: Awaited<ReturnType<typeof fakeAgent>>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-follow-'));
    logs = [];
    // An agent that fails every registration: an apply never gets past it.
    fake = await fakeAgent(() => [500, 'agent is sad']);
    const m = validateManifest(validManifest());
    epmd = new EpmdServer({ port: 0, addresses: ['127.0.0.1', '127.0.0.2', '127.0.0.3'], peers: [] });
    await epmd.start();
    const o = { manifest: m, stateDir: new StateDir(dir), agent: new ConsulAgent({ address: fake.url }), log: (l: string) => logs.push(l) } as unknown as BootContext['o'];
    ctx = { o, signal: new AbortController().signal, epmd, ports: { epmdPort: epmd.port, distPort: 9100, sidecarPort: 21000, upstreams: m.upstreams.map((u, i) => ({ ...u, port: 30001 + i })) } };
    ctx.version = versionOf(m, SOURCE);
  });

  afterEach(async () => {
    fake.close();
    await epmd.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const state = () => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));

  test('the version the node booted with: unchanged, its KV index recorded in state.json', async () => {
    const f = new TopologyFollower(ctx, SOURCE);
    expect(await f.onVersion(JSON.stringify(validManifest()), 17)).toBe('unchanged');
    expect(state().version).toMatchObject({ source: SOURCE, index: 17, sha256: ctx.version!.sha256 });
    expect(logs).toEqual([]);
  });

  test.each([
    ['invalid JSON', '{"apiVersion":', /kv:meshx\/shop\/nodes\/shop-orders: manifest field '\(root\)' is not valid JSON/],
    ['a deleted key', undefined, /the key was deleted/],
    ['another node\'s manifest', JSON.stringify({ ...validManifest(), node: 'audit@audit-1.shop.test' }), /manifest field 'node' changed/],
  ])('%s is refused with a log line and state.json says so; the live version stays', async (_what, text, why) => {
    const f = new TopologyFollower(ctx, SOURCE);
    expect(await f.onVersion(text, 21)).toBe('refused');
    expect(logs).toEqual([expect.stringMatching(new RegExp(`^manifest version 21 refused: .*${why.source}.*; still on the boot's version \\(sha256 [0-9a-f]{12}\\)$`))]);
    expect(state().refused).toMatchObject({ index: 21, reason: expect.stringMatching(why) });
    expect(state().version.sha256).toBe(ctx.version!.sha256);
    expect(ctx.manifest).toBeUndefined();
  });

  test('a valid version the agent cannot take: failed (tried again), nothing switched, no secrets in the log', async () => {
    const next = validManifest();
    next.upstreams.push({ node: 'audit@audit-1.shop.test', service: 'shop-audit', address: '127.0.0.4', port: 0 });
    const f = new TopologyFollower(ctx, SOURCE);
    const before = ctx.ports;
    expect(await f.onVersion(JSON.stringify(next), 30)).toBe('failed');
    expect(logs).toEqual([expect.stringMatching(/^manifest version 30 not applied: Consul agent answered 500 .*agent is sad; still on the boot's version .*, trying again$/)]);
    expect(ctx.ports).toBe(before);
    expect(ctx.manifest).toBeUndefined();
    // The registration was attempted with the new upstream, then the old one restored.
    const regs = fake.seen.filter((s) => s.url.startsWith('/v1/agent/service/register')).map((s) => JSON.parse(s.body).Connect.SidecarService.Proxy.Upstreams.length);
    expect(regs).toEqual([3, 2]);
  });
});

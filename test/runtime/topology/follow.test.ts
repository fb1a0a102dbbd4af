import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveReplica } from '../../../lib/manifest/replicas';
import { ManifestPeerGroup, NodeManifest } from '../../../lib/manifest/types';
import { validateGroupManifest, validateManifest } from '../../../lib/manifest/validate';
import { ConsulAgent } from '../../../lib/runtime/consul/agent';
import { EpmdServer, PeerRoute } from '../../../lib/runtime/epmd/server';
import { LiveRegistration } from '../../../lib/runtime/live-registration';
import { probeFreePort } from '../../../lib/runtime/ports';
import { RoutedUpstream } from '../../../lib/runtime/registration';
import { RunOptions } from '../../../lib/runtime/run-options';
import { StateDir } from '../../../lib/runtime/state-dir';
import { TopologyFollower } from '../../../lib/runtime/topology/follow';
import { LiveNode } from '../../../lib/runtime/topology/apply';
import { LiveFiles, versionOf } from '../../../lib/runtime/topology/outputs';
import { validGroupManifest, validManifest } from '../../fixtures/manifests';
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

const GROUP_SOURCE = 'kv:meshx/shop/groups/shop-api';
const OWN = 'api@api-1.shop.test';
const API2 = 'api@api-2.shop.test';
const API3 = 'api@api-3.shop.test';
const JOBS1 = 'jobs@jobs-1.shop.test';

/** A group's manifest text, changed by `change`. */
function groupText(change: (g: any) => void = () => undefined): string {
  const g = validGroupManifest();
  change(g);
  return JSON.stringify(g);
}

/**
 * Replica api-1 of the fixture group (a single-node peer db, peer groups shop-api and shop-jobs),
 * running. The fake agent takes every registration (unless told to fail) and reports it back;
 * this process stands in for the proxy: it holds the public listener and the boot's upstream
 * listener, and opens each registered upstream's listener, as the built-in proxy does on the
 * agent's update.
 */
describe("TopologyFollower of a replica's peer groups", () => {
  let dir: string;
  let fake: Awaited<ReturnType<typeof fakeAgent>>;
  let epmdServer: EpmdServer;
  let registration: LiveRegistration;
  let files: LiveFiles;
  let node: LiveNode;
  let logs: string[];
  let routes: PeerRoute[][];
  let servers: net.Server[];
  let failRegister: boolean;
  let boot: NodeManifest;

  const listen = (address: string, port: number) =>
    new Promise<void>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      servers.push(server);
      server.listen(port, address, () => resolve());
    });

  /** The sidecars' registrations the agent took (failed ones too), oldest first. */
  const registrations = () =>
    fake.seen.filter((r) => r.method === 'PUT' && r.url.startsWith('/v1/agent/service/register')).map((r) => JSON.parse(r.body));
  const upstreamsOf = (reg: any): any[] => reg.Connect.SidecarService.Proxy.Upstreams;
  const lastUpstreams = () => upstreamsOf(registrations()[registrations().length - 1]);
  const state = () => JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
  const stateDir = () => new StateDir(dir);
  const peersFile = () => fs.readFileSync(stateDir().peersPath, 'utf8').split('\n').filter(Boolean);
  const hostsFileText = () => fs.readFileSync(stateDir().hostsPath, 'utf8');
  const inForce = (n: string): RoutedUpstream | undefined => registration.ports.upstreams.find((u) => u.node === n);
  const lastRoutes = () => routes[routes.length - 1];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-follow-groups-'));
    logs = [];
    routes = [];
    servers = [];
    failRegister = false;
    const pub = await probeFreePort('0.0.0.0');
    const dbPort = await probeFreePort('127.0.0.2');
    await listen('0.0.0.0', pub);
    await listen('127.0.0.2', dbPort);
    let last: any;
    fake = await fakeAgent((req, body) => {
      if (req.method === 'PUT' && req.url!.startsWith('/v1/agent/service/register')) {
        if (failRegister) return [500, 'agent is sad'];
        last = JSON.parse(body);
        for (const u of upstreamsOf(last)) {
          const open = servers.some((sv) => {
            const a = sv.address() as net.AddressInfo | null;
            return a !== null && a.address === u.LocalBindAddress && a.port === u.LocalBindPort;
          });
          if (!open) void listen(u.LocalBindAddress, u.LocalBindPort);
        }
        return [200, ''];
      }
      if (req.method === 'GET' && last && req.url === `/v1/agent/service/${encodeURIComponent(`${last.ID}-sidecar-proxy`)}`) {
        return [200, JSON.stringify({ ID: `${last.ID}-sidecar-proxy`, Port: pub, Address: '', Proxy: { Upstreams: upstreamsOf(last) } })];
      }
      return [404, ''];
    });
    boot = validateManifest(resolveReplica(validateGroupManifest(validGroupManifest()), OWN));
    epmdServer = new EpmdServer({ port: 0, addresses: ['127.0.0.1', '127.0.0.2'], peers: [] });
    await epmdServer.start();
    const o = {
      manifest: boot,
      agent: new ConsulAgent({ address: fake.url }),
      log: (l: string) => logs.push(l),
      proxyKind: 'builtin',
      readyTimeoutMs: 5000,
    } as unknown as RunOptions;
    registration = new LiveRegistration(o, { distPort: 9100, sidecarPort: pub, upstreams: [{ ...boot.upstreams[0], port: dbPort }] });
    const dns = { port: 5353, setHosts: () => undefined };
    files = new LiveFiles(new StateDir(dir), { registration, epmdPort: epmdServer.port, dns }, versionOf(boot, GROUP_SOURCE));
    const epmd = {
      addAddress: (a: string) => epmdServer.addAddress(a),
      setPeers: (p: PeerRoute[]) => {
        routes.push(p);
        epmdServer.setPeers(p);
      },
    };
    const proxy = { pid: process.pid, restartCount: 0, start: () => undefined, stop: async () => undefined };
    node = { o, registration, epmd, proxy, files };
  });

  afterEach(async () => {
    fake.close();
    await epmdServer.close();
    servers.forEach((sv) => sv.close());
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the peer groups in force are the manifest\'s', () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    expect(f.peerGroups).toEqual(boot.peerGroups);
  });

  test('members of a group the manifest does not list: nothing registered, nothing logged', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    expect(await f.onMembers('shop-other', ['other@o-1.shop.test'])).toBe('applied');
    expect(fake.seen).toEqual([]);
    expect(logs).toEqual([]);
    expect(registration.manifest).toBe(boot);
  });

  test('a new member: registered as a prepared-query upstream, its listener up, then EPMD routes and the state dir', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    expect(await f.onMembers('shop-api', [OWN, API2])).toBe('applied');

    // The agent got the sidecar with one more upstream: the member, by its query.
    expect(registrations()).toHaveLength(1);
    const ups = lastUpstreams();
    expect(ups).toHaveLength(2);
    expect(ups[0]).toMatchObject({ DestinationType: 'service', DestinationName: 'shop-db', LocalBindAddress: '127.0.0.2' });
    const member = ups[1];
    expect(member).toEqual({
      DestinationType: 'prepared_query',
      DestinationName: `meshx~shop~shop-api~${API2}`,
      LocalBindAddress: expect.stringMatching(/^127\.\d+\.\d+\.\d+$/),
      LocalBindPort: expect.any(Number),
    });
    expect(member.LocalBindPort).toBeGreaterThan(0);
    // A host of its own: neither this host's address nor the single-node peer's.
    expect(['127.0.0.1', '127.0.0.2']).not.toContain(member.LocalBindAddress);
    // Its own node is never an upstream.
    expect(ups.map((u: any) => u.DestinationName).join(' ')).not.toContain(OWN);

    // In force: the registration, the EPMD address and route, the files.
    expect(inForce(API2)).toEqual({
      node: API2,
      service: 'shop-api',
      address: member.LocalBindAddress,
      port: member.LocalBindPort,
      query: member.DestinationName,
    });
    expect(registration.manifest.upstreams.map((u) => u.node)).toEqual(['db@db-1.shop.test', API2]);
    expect(epmdServer.addresses).toContain(member.LocalBindAddress);
    expect(lastRoutes()).toContainEqual({ address: member.LocalBindAddress, alive: 'api', port: member.LocalBindPort });
    expect(lastRoutes()).toHaveLength(2);
    expect(peersFile()).toEqual(['api@api-2.shop.test', 'db@db-1.shop.test']);
    expect(hostsFileText()).toContain(`${member.LocalBindAddress} api-2.shop.test\n`);
    expect(state().upstreams).toContainEqual(inForce(API2));
    expect(state().node).toBe(OWN);
    expect(logs).toEqual([`members of shop-api: added ${API2}; removed none; 2 upstreams`]);
    // The manifest's own version did not change.
    expect(state().version.sha256).toBe(versionOf(boot, GROUP_SOURCE).sha256);
    expect(f.peerGroups).toEqual(boot.peerGroups);
  });

  test('the same members again: nothing registered; only its own node: nothing to route', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    expect(await f.onMembers('shop-api', [OWN])).toBe('applied');
    expect(registrations()).toHaveLength(0);
    expect(await f.onMembers('shop-api', [OWN, API2])).toBe('applied');
    expect(registrations()).toHaveLength(1);
    logs.length = 0;
    expect(await f.onMembers('shop-api', [API2, OWN])).toBe('applied');
    expect(registrations()).toHaveLength(1);
    expect(logs).toEqual([]);
  });

  test('a member that leaves: its upstream is registered away at once, its route and host entry dropped', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    await f.onMembers('shop-api', [OWN, API2, API3]);
    const gone = inForce(API3)!;
    expect(gone).toBeDefined();
    logs.length = 0;
    expect(await f.onMembers('shop-api', [OWN, API2])).toBe('applied');
    expect(registrations()).toHaveLength(2);
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual(['shop-db', `meshx~shop~shop-api~${API2}`]);
    expect(inForce(API3)).toBeUndefined();
    expect(lastRoutes()).not.toContainEqual(expect.objectContaining({ address: gone.address }));
    expect(peersFile()).toEqual([API2, 'db@db-1.shop.test']);
    expect(hostsFileText()).not.toContain('api-3.shop.test');
    expect(logs).toEqual([`members of shop-api: added none; removed ${API3}; 2 upstreams`]);
  });

  test('a member that comes back gets its address again; a new host does not take it meanwhile', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    await f.onMembers('shop-api', [API2]);
    const first = inForce(API2)!.address;
    await f.onMembers('shop-api', []);
    expect(inForce(API2)).toBeUndefined();
    await f.onMembers('shop-api', [API3]);
    expect(inForce(API3)!.address).not.toBe(first);
    await f.onMembers('shop-api', [API2, API3]);
    expect(inForce(API2)!.address).toBe(first);
  });

  test('members of two groups: each routed by its own group\'s query; a node in both once', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    expect(await f.onMembers('shop-api', [API2])).toBe('applied');
    expect(await f.onMembers('shop-jobs', [JOBS1, API2])).toBe('applied');
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual([
      'shop-db',
      `meshx~shop~shop-api~${API2}`,
      `meshx~shop~shop-jobs~${JOBS1}`,
    ]);
    expect(peersFile()).toEqual([API2, 'db@db-1.shop.test', JOBS1]);
    // The other group's members are kept when one group changes; a node it lists too is now routed through it.
    const address = inForce(API2)!.address;
    expect(await f.onMembers('shop-api', [])).toBe('applied');
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual([
      'shop-db',
      `meshx~shop~shop-jobs~${API2}`,
      `meshx~shop~shop-jobs~${JOBS1}`,
    ]);
    expect(inForce(API2)).toMatchObject({ service: 'shop-jobs', address });
    expect(await f.onMembers('shop-jobs', [])).toBe('applied');
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual(['shop-db']);
    expect(peersFile()).toEqual(['db@db-1.shop.test']);
  });

  test('member sets handed over at once are applied one after the other: none is lost', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    const outcomes = await Promise.all([f.onMembers('shop-api', [API2, API3]), f.onMembers('shop-jobs', [JOBS1])]);
    expect(outcomes).toEqual(['applied', 'applied']);
    expect(registration.ports.upstreams.map((u) => u.node).sort()).toEqual([API2, API3, 'db@db-1.shop.test', JOBS1]);
    expect(peersFile()).toEqual([API2, API3, 'db@db-1.shop.test', JOBS1]);
  });

  test('sets that arrive while an apply runs are applied together by the next one: one registration, not one per set', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    const first = f.onMembers('shop-api', [API2]);
    // While the first apply runs (registered, waiting for its listener): three more sets, the last of each group wins.
    // Bounded by the wait, not asserted as a time: a loaded machine only makes the loop longer.
    for (const until = Date.now() + 10_000; registrations().length === 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 1));
    expect(registrations()).toHaveLength(1);
    const later = [f.onMembers('shop-api', [API2, API3]), f.onMembers('shop-jobs', [JOBS1]), f.onMembers('shop-api', [API3])];
    expect(await first).toBe('applied');
    expect(await Promise.all(later)).toEqual(['applied', 'applied', 'applied']);
    expect(registrations()).toHaveLength(2);
    expect(registration.ports.upstreams.map((u) => u.node).sort()).toEqual([API3, 'db@db-1.shop.test', JOBS1]);
    expect(logs.filter((l) => l.startsWith('members of'))).toEqual([
      expect.stringMatching(new RegExp(`^members of shop-api: added ${API2}; removed none`)),
      expect.stringMatching(new RegExp(`^members of shop-api, shop-jobs: added ${API3}, ${JOBS1}; removed ${API2}`)),
    ]);
  });

  test('a set the agent cannot take: failed, the members before it stay in force and are kept for the next change', async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    await f.onMembers('shop-api', [API2]);
    const before = registration.ports;
    const peersBefore = peersFile();
    failRegister = true;
    logs.length = 0;
    expect(await f.onMembers('shop-api', [API2, API3])).toBe('failed');
    expect(logs).toEqual([expect.stringMatching(/^members of shop-api not applied: Consul agent answered 500 .*agent is sad; trying again$/)]);
    expect(registration.ports).toBe(before);
    expect(peersFile()).toEqual(peersBefore);
    // Another group's change later carries the members in force, not the failed set.
    failRegister = false;
    expect(await f.onMembers('shop-jobs', [JOBS1])).toBe('applied');
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual([
      'shop-db',
      `meshx~shop~shop-api~${API2}`,
      `meshx~shop~shop-jobs~${JOBS1}`,
    ]);
    // The failed set, handed over again, is applied.
    expect(await f.onMembers('shop-api', [API2, API3])).toBe('applied');
    expect(inForce(API3)).toBeDefined();
  });

  test("a group's first set that fails leaves no members of it behind", async () => {
    const f = new TopologyFollower(node, GROUP_SOURCE);
    failRegister = true;
    expect(await f.onMembers('shop-api', [API2])).toBe('failed');
    failRegister = false;
    expect(await f.onMembers('shop-jobs', [JOBS1])).toBe('applied');
    expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual(['shop-db', `meshx~shop~shop-jobs~${JOBS1}`]);
  });

  describe("versions of the group's manifest", () => {
    test('the version the replica booted with: unchanged', async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      expect(await f.onVersion(groupText(), 12)).toBe('unchanged');
      expect(state().version).toMatchObject({ source: GROUP_SOURCE, index: 12 });
      expect(registrations()).toHaveLength(0);
    });

    test("a version with new tags: resolved for this replica, applied, its members kept", async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      await f.onMembers('shop-api', [API2]);
      const text = groupText((g) => (g.service.tags = ['v2']));
      expect(await f.onVersion(text, 30)).toBe('applied');
      const reg = registrations()[registrations().length - 1];
      expect(reg.ID).toBe(boot.service.id);
      expect(reg.Tags).toEqual(['v2']);
      expect(reg.Meta).toMatchObject({ erlang_node: OWN, meshx_mesh: 'shop' });
      expect(upstreamsOf(reg).map((u: any) => u.DestinationName)).toEqual(['shop-db', `meshx~shop~shop-api~${API2}`]);
      expect(registration.manifest.service.tags).toEqual(['v2']);
      expect(registration.manifest.node).toBe(OWN);
      const resolved = validateManifest(resolveReplica(validateGroupManifest(JSON.parse(text)), OWN));
      expect(state().version).toMatchObject({ source: GROUP_SOURCE, index: 30, sha256: versionOf(resolved, GROUP_SOURCE).sha256 });
      expect(logs[logs.length - 1]).toBe('manifest version 30 applied: added none; removed none; 2 upstreams');
      // The same version again is the one in force.
      expect(await f.onVersion(text, 30)).toBe('unchanged');
    });

    test('a version with another single-node peer: applied next to the members', async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      await f.onMembers('shop-api', [API2]);
      const text = groupText((g) => g.upstreams.push({ node: 'pay@pay-1.shop.test', service: 'shop-pay', address: '127.0.0.9', port: 0 }));
      expect(await f.onVersion(text, 31)).toBe('applied');
      expect(lastUpstreams().map((u: any) => [u.DestinationType, u.DestinationName])).toEqual([
        ['service', 'shop-db'],
        ['service', 'shop-pay'],
        ['prepared_query', `meshx~shop~shop-api~${API2}`],
      ]);
      expect(peersFile()).toEqual([API2, 'db@db-1.shop.test', 'pay@pay-1.shop.test']);
    });

    test("a version the replica cannot take while running is refused, naming the field", async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      expect(await f.onVersion(groupText((g) => (g.service.distPort = 9555)), 40)).toBe('refused');
      expect(state().refused).toMatchObject({ index: 40, reason: expect.stringMatching(/manifest field 'service\.distPort' changed/) });
      expect(await f.onVersion(groupText((g) => (g.service.name = 'shop-api2')), 41)).toBe('refused');
      expect(state().refused.reason).toMatch(/manifest field 'service\.(id|name)' changed/);
      expect(await f.onVersion(groupText((g) => (g.mesh = 'other')), 42)).toBe('refused');
      expect(registrations()).toHaveLength(0);
      expect(registration.manifest).toBe(boot);
    });

    test("a group's manifest that is not valid is refused, naming its field", async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      expect(await f.onVersion(groupText((g) => (g.service.meta.erlang_node = OWN)), 43)).toBe('refused');
      expect(state().refused.reason).toMatch(/^kv:meshx\/shop\/groups\/shop-api: manifest field 'service\.meta\.erlang_node'/);
    });

    // A version whose replicas are named web@HOST must not resolve to the running api@HOST
    // replica's own manifest (and be taken as 'unchanged'): it is refused, naming the node.
    test("a version that renames the group's alive name is refused, naming the node", async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      expect(await f.onVersion(groupText((g) => (g.group.alive = 'web')), 44)).toBe('refused');
      expect(state().refused.reason).toMatch(/manifest field '(node|group\.alive)' changed/);
      expect(registration.manifest).toBe(boot);
    });

    test('a version that changes the peer groups: the hook hears the new ones, a dropped group\'s members go', async () => {
      const heard: ManifestPeerGroup[][] = [];
      const f = new TopologyFollower(node, GROUP_SOURCE, { peerGroupsChanged: (g) => heard.push(g) });
      await f.onMembers('shop-api', [API2]);
      await f.onMembers('shop-jobs', [JOBS1]);
      // Tags only: the hook is not called.
      expect(await f.onVersion(groupText((g) => (g.service.tags = ['t'])), 50)).toBe('applied');
      expect(heard).toEqual([]);
      const text = groupText((g) => {
        g.service.tags = ['t'];
        g.peerGroups = g.peerGroups.filter((p: ManifestPeerGroup) => p.service !== 'shop-jobs');
      });
      expect(await f.onVersion(text, 51)).toBe('applied');
      expect(heard).toEqual([[{ service: 'shop-api', query: 'meshx~shop~' }]]);
      expect(f.peerGroups).toEqual([{ service: 'shop-api', query: 'meshx~shop~' }]);
      expect(lastUpstreams().map((u: any) => u.DestinationName)).toEqual(['shop-db', `meshx~shop~shop-api~${API2}`]);
      expect(peersFile()).toEqual([API2, 'db@db-1.shop.test']);
      expect(logs[logs.length - 1]).toBe(`manifest version 51 applied: added none; removed ${JOBS1}; 2 upstreams`);
      // The dropped group's watch may still answer: ignored.
      const count = registrations().length;
      expect(await f.onMembers('shop-jobs', [JOBS1, 'jobs@jobs-2.shop.test'])).toBe('applied');
      expect(registrations()).toHaveLength(count);
      // A group added back: the hook hears it, its members are routed when they come.
      expect(await f.onVersion(groupText((g) => (g.service.tags = ['t'])), 52)).toBe('applied');
      expect(heard[1]).toEqual(validGroupManifest().peerGroups);
      expect(await f.onMembers('shop-jobs', [JOBS1])).toBe('applied');
      expect(inForce(JOBS1)).toMatchObject({ service: 'shop-jobs', query: `meshx~shop~shop-jobs~${JOBS1}` });
    });

    test('a version that fails to apply: the hook is not called, the members stay in force', async () => {
      const heard: ManifestPeerGroup[][] = [];
      const f = new TopologyFollower(node, GROUP_SOURCE, { peerGroupsChanged: (g) => heard.push(g) });
      await f.onMembers('shop-jobs', [JOBS1]);
      failRegister = true;
      const text = groupText((g) => (g.peerGroups = g.peerGroups.slice(0, 1)));
      expect(await f.onVersion(text, 60)).toBe('failed');
      expect(heard).toEqual([]);
      expect(f.peerGroups).toEqual(boot.peerGroups);
      expect(inForce(JOBS1)).toBeDefined();
      expect(state().version.index).toBeUndefined();
    });

    // A failed version that drops a group keeps that group's members: the registration still
    // routes them, and the group's watch would not hand the same set over again.
    test("a version that drops a group and fails does not lose the group's members for later changes", async () => {
      const f = new TopologyFollower(node, GROUP_SOURCE);
      await f.onMembers('shop-jobs', [JOBS1]);
      failRegister = true;
      expect(await f.onVersion(groupText((g) => (g.peerGroups = g.peerGroups.slice(0, 1))), 61)).toBe('failed');
      failRegister = false;
      // Another group's members: the jobs member must still be routed.
      expect(await f.onMembers('shop-api', [API2])).toBe('applied');
      expect(inForce(JOBS1)).toBeDefined();
      expect(lastUpstreams().map((u: any) => u.DestinationName)).toContain(`meshx~shop~shop-jobs~${JOBS1}`);
    });
  });
});

// 9. Hundreds of peers: one real node (`meshx-node run`, built-in proxy, real BEAM) whose peer
// group has 250, 500 and 1,000 instances in the catalog of one Consul 1.8.7 dev agent. The
// instances are plain agent registrations (a service and its sidecar, with the mesh meta), no
// BEAMs and no proxies behind them: what the node's helper and proxy do with them is measured.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { queryTemplateName, replicaServiceId } from '../lib/manifest/replicas';
import { NodeManifest } from '../lib/manifest/types';
import { ConsulAgent } from '../lib/runtime/consul/agent';
import { listeningSockets } from '../lib/runtime/proxy/listeners';
import { DevAgent } from '../support/consul-dev-agent';
import { BIN, MeshNode } from '../support/mesh-node';
import { fmt, fmtCi, goalAtMost, Progress, quantile, rounds, rssMb, Section, table } from './lib';
import { medianCi } from './stats';

const MESH = 'pb';
const GROUP = 'pb-api';
const NODE = 'db@db-1.peers.test';
const SIZES = (process.env.MESHX_BENCH_PEERS ?? '250,500,1000').split(',').map(Number);
const CHANGES = rounds(9);
const LOOKUPS = 2000;
const POLL_LIMIT_MS = 30_000;
const peerName = (i: number) => `api@p${i}.peers.test`;

interface SizeSamples {
  n: number;
  /** From spawning the node to its peers file listing all n members (ms). */
  bootMs: number;
  rssMb: number[];
  proxyListeners: number;
  proxyListenersAfterRemove: number;
  epmdListeners: number;
  addMs: number[];
  removeMs: number[];
  lookupP99Ms: number[];
  lookupP50Ms: number[];
}

/** Registers peer `i`: its service, then its sidecar (only then does health/connect list it). */
async function register(api: ConsulAgent, i: number, sidecar = true): Promise<void> {
  const node = peerName(i);
  const id = replicaServiceId(GROUP, node);
  const meta = { erlang_node: node, meshx_mesh: MESH };
  await put(api, '/v1/agent/service/register', { ID: id, Name: GROUP, Address: '127.0.0.1', Port: 10000 + i, Meta: meta });
  if (sidecar) await registerSidecar(api, i);
}

async function registerSidecar(api: ConsulAgent, i: number): Promise<void> {
  const id = replicaServiceId(GROUP, peerName(i));
  await put(api, '/v1/agent/service/register', {
    ID: `${id}-sidecar-proxy`,
    Name: `${GROUP}-sidecar-proxy`,
    Kind: 'connect-proxy',
    Address: '127.0.0.1',
    Port: 30000 + i,
    Meta: { erlang_node: peerName(i), meshx_mesh: MESH },
    Proxy: { DestinationServiceName: GROUP, DestinationServiceID: id, LocalServiceAddress: '127.0.0.1', LocalServicePort: 10000 + i },
  });
}

async function deregister(api: ConsulAgent, id: string): Promise<void> {
  await put(api, `/v1/agent/service/deregister/${encodeURIComponent(id)}`, undefined);
}

async function put(api: ConsulAgent, p: string, body: unknown): Promise<void> {
  // A generous timeout: an agent busy with a thousand sidecars can take seconds to answer.
  const r = await api.request('PUT', p, body, false, { timeoutMs: 60_000 });
  if (r.status !== 200) throw new Error(`PUT ${p}: ${r.status} ${r.text}`);
}

/** Peers `from`..`to`-1, a few registrations in flight. */
async function registerRange(api: ConsulAgent, from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < to) await register(api, next++);
  }));
}

/** Polls the node's peers file (what the BEAM reads) until `ok`; ms from `t0`. */
async function untilPeers(file: string, ok: (peers: Set<string>) => boolean, t0: bigint): Promise<number> {
  const deadline = Date.now() + POLL_LIMIT_MS;
  while (Date.now() < deadline) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    if (ok(new Set(text.split('\n').filter(Boolean)))) return Number(process.hrtime.bigint() - t0) / 1e6;
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`the peers file ${file} did not change as expected within ${POLL_LIMIT_MS} ms`);
}

/** Listening TCP sockets held by `pid` (its fds matched to /proc/net/tcp rows in LISTEN). */
export function listenerCount(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return listeningSockets().filter((s) => inodes.has(s.inode)).length;
}

/** PORT_PLEASE2 lookups of `alive` on the helper's EPMD at `address`, one in flight: latencies (ms). */
function lookups(address: string, port: number, alive: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'epmd-load.js'), address, String(port), alive, String(LOOKUPS), '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out).lat) : reject(new Error(`epmd load exited ${code}`))));
  });
}

function nodeManifest(): NodeManifest {
  return {
    apiVersion: 'meshx-node/v1',
    mesh: MESH,
    node: NODE,
    service: {
      id: 'pb-db', name: 'pb-db', tags: [], meta: { meshx_mesh: MESH, erlang_node: NODE }, distPort: 0, ttl: '5m', deregisterCriticalAfter: '1m',
    },
    sidecar: { port: 0, proxy: 'builtin' as never },
    upstreams: [],
    peerGroups: [{ service: GROUP, query: queryTemplateName(MESH) }],
    epmdPort: 0,
  };
}

interface NodeState { helperPid: number; epmdPort: number; upstreams: Array<{ node: string; address: string }> }

/** One size: the node follows n peers; one peer (n) is added and removed CHANGES times. */
async function measureSize(
  api: ConsulAgent, node: MeshNode, stateDir: string, n: number, bootMs: number, tick: (m: string) => void,
): Promise<SizeSamples> {
  const peersFile = path.join(stateDir, 'peers');
  const state = () => JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as NodeState;
  const proxyPid = node.pidOf('proxy')!;
  const s: SizeSamples = {
    n, bootMs, rssMb: [], proxyListeners: 0, proxyListenersAfterRemove: 0, epmdListeners: 0,
    addMs: [], removeMs: [], lookupP99Ms: [], lookupP50Ms: [],
  };
  await new Promise((r) => setTimeout(r, 2000)); // settle after the boot
  for (let k = 0; k < 5; k++) {
    s.rssMb.push(rssMb(node.helperPid));
    await new Promise((r) => setTimeout(r, 200));
  }
  s.proxyListeners = listenerCount(proxyPid);
  s.epmdListeners = listenerCount(node.helperPid);
  const st = state();
  const route = st.upstreams.find((u) => u.node === peerName(0))!;
  for (let r = 0; r < 3; r++) {
    const lat = await lookups(route.address, st.epmdPort, 'api');
    s.lookupP99Ms.push(quantile(lat, 0.99));
    s.lookupP50Ms.push(quantile(lat, 0.5));
  }
  const extra = n; // the peer that comes and goes: index n, beyond the n members
  const extraNode = peerName(extra);
  const extraId = replicaServiceId(GROUP, extraNode);
  for (let c = 0; c < CHANGES; c++) {
    await register(api, extra, false);
    let t0 = process.hrtime.bigint();
    if (process.env.MESHX_BENCH_PEERS_LOG) process.stderr.write(`[trace] add ${new Date().toISOString()}\n`);
    await registerSidecar(api, extra);
    s.addMs.push(await untilPeers(peersFile, (p) => p.has(extraNode) && p.size === n + 1, t0));
    t0 = process.hrtime.bigint();
    if (process.env.MESHX_BENCH_PEERS_LOG) process.stderr.write(`[trace] remove ${new Date().toISOString()}\n`);
    await deregister(api, `${extraId}-sidecar-proxy`);
    s.removeMs.push(await untilPeers(peersFile, (p) => !p.has(extraNode) && p.size === n, t0));
    await deregister(api, extraId);
    tick(`${n} peers: add ${fmt(s.addMs[c])} ms, remove ${fmt(s.removeMs[c])} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
  s.proxyListenersAfterRemove = listenerCount(proxyPid);
  return s;
}

export async function peersSamples(tick: (m: string) => void): Promise<SizeSamples[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bench-peers-'));
  const agent = await DevAgent.start();
  let node: MeshNode | undefined;
  try {
    const init = spawnSync(process.execPath, [BIN, 'mesh', 'init', '--mesh', MESH, '--consul-addr', agent.httpAddr], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`mesh init failed: ${init.stderr}`);
    const key = `meshx/${MESH}/nodes/pb-db`;
    await agent.api.kvPut(key, JSON.stringify(nodeManifest()));
    const out: SizeSamples[] = [];
    let registered = 0;
    for (const n of SIZES) {
      // Each size on a fresh node that reads its n members at boot (a batch of hundreds arriving
      // while it runs is a storm of changes, each one O(n), not what is measured here).
      await registerRange(agent.api, registered, n);
      registered = n;
      const stateDir = path.join(tmp, `state-${n}`);
      const t0 = process.hrtime.bigint();
      const beamArgs = ['-connect_all', 'false'];
      node = await MeshNode.start({ kv: key, node: NODE, consulAddr: agent.httpAddr, cookie: 'peers-bench', stateDir, beamArgs });
      const bootMs = await untilPeers(path.join(stateDir, 'peers'), (p) => p.size === n, t0);
      out.push(await measureSize(agent.api, node, stateDir, n, bootMs, tick));
      if (process.env.MESHX_BENCH_PEERS_LOG) fs.writeFileSync(`${process.env.MESHX_BENCH_PEERS_LOG}.${n}`, node.output);
      await node.stop();
      node = undefined;
    }
    return out;
  } finally {
    await node?.stop();
    await agent.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Least-squares line y = a + b n over the sizes, and how far each point is from it. */
function lineFit(ns: number[], ys: number[]): { a: number; b: number; worst: number } {
  const mx = ns.reduce((p, x) => p + x, 0) / ns.length;
  const my = ys.reduce((p, y) => p + y, 0) / ys.length;
  const b = ns.reduce((p, x, i) => p + (x - mx) * (ys[i] - my), 0) / ns.reduce((p, x) => p + (x - mx) ** 2, 0);
  const a = my - b * mx;
  const worst = Math.max(...ns.map((x, i) => Math.abs(a + b * x - ys[i]) / ys[i]));
  return { a, b, worst };
}

export async function peersBench(): Promise<Section> {
  const progress = new Progress('peers', SIZES.length * CHANGES);
  return peersSection(await peersSamples((m) => progress.tick(m)));
}

/** The section from its samples (also to render saved samples again). */
export function peersSection(got: SizeSamples[]): Section {
  const rows = got.map((s) => [
    fmt(s.n),
    fmtCi(medianCi(s.rssMb), 1),
    fmtCi(medianCi(s.addMs), 0),
    fmtCi(medianCi(s.removeMs), 0),
    fmtCi(medianCi(s.lookupP99Ms), 2),
    fmt(s.proxyListeners),
    fmt(s.proxyListenersAfterRemove),
    fmt(s.epmdListeners),
    fmt(s.bootMs),
  ]);
  const med = (xs: number[]) => medianCi(xs).value;
  const ns = got.map((s) => s.n);
  const fits = [
    ['helper RSS (MB)', lineFit(ns, got.map((s) => med(s.rssMb)))],
    ['one added peer applied (ms)', lineFit(ns, got.map((s) => med(s.addMs)))],
    ['one removed peer applied (ms)', lineFit(ns, got.map((s) => med(s.removeMs)))],
  ] as const;
  const last = got[got.length - 1];
  return {
    title: '9. Hundreds of peers',
    markdown: [
      'One node under `meshx-node run` (built-in proxy, real BEAM) whose peer group has '
        + `${ns.map((n) => fmt(n)).join(', ')} instances in the catalog of `
        + 'one Consul 1.8.7 dev agent: plain agent registrations of a service and its sidecar with the mesh meta, each on its own host name '
        + '(its own loopback address), no BEAM or proxy behind them. Each size on a fresh node, which reads its members at boot '
        + '(boot: from spawning `meshx-node run` to its `peers` file listing all of them). '
        + `At each size: the helper's RSS (5 reads 200 ms apart, 2 s after the boot), ${CHANGES} times one more instance added (from the `
        + 'sidecar\'s registration) and removed (from the sidecar\'s deregistration) until the node\'s `peers` file says so (the helper '
        + 'writes it last, after the proxy\'s listener is up and the EPMD route is in), 3 × ' + fmt(LOOKUPS) + ' EPMD lookups of a peer, '
        + 'one in flight, on its loopback address, and the listening sockets held by the proxy and by the helper (its EPMD). '
        + 'Medians with 95% bootstrap intervals.',
      '',
      table(
        [
          'peers', 'helper RSS (MB)', 'add one (ms)', 'remove one (ms)', 'EPMD lookup p99 (ms)',
          'proxy listeners', 'after the removals', 'helper listeners', 'boot (ms)',
        ],
        rows,
      ),
      '',
      'Least-squares lines over the sizes (a + b·n; worst point off the line): '
        + fits.map(([what, f]) => `${what}: ${fmt(f.a, 1)} + ${fmt(f.b * 1000, 1)}/1000 peers (${fmt(f.worst * 100, 0)}%)`).join('; ') + '.',
    ].join('\n'),
    goals: [
      goalAtMost(`helper RSS <= 64 MB at ${fmt(last.n)} peers`, medianCi(last.rssMb), 64, 1, ' MB'),
      goalAtMost(`one added peer applied <= 100 ms at ${fmt(last.n)} peers`, medianCi(last.addMs), 100, 0, ' ms'),
      goalAtMost(`one removed peer applied <= 100 ms at ${fmt(last.n)} peers`, medianCi(last.removeMs), 100, 0, ' ms'),
    ],
    samples: got,
  };
}

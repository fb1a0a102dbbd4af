// The Connect CA rotated under running nodes (Consul 1.8.7 dev agent, built-in proxies, real
// BEAMs): a new built-in CA key and root and a shorter leaf TTL, while a node keeps dialing new
// distribution connections, so leaves signed by the new root are used in new TLS handshakes.
import { IntentionsMode } from '../../lib';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import {
  agentLeaf,
  caRoots,
  lifetimeHours,
  markRedialLoop,
  RedialResult,
  newCaRoot,
  servedCertificate,
  setCaConfig,
  signedBy,
  startRedialLoop,
  stopRedialLoop,
} from '../../support/ca-rotation';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth } from '../../support/terraform';
import { poll } from '../../support/wait';

jest.setTimeout(240_000);

const COOKIE = 'ca-rotation-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.shop.test';
const BILLING = 'billing@billing-1.shop.test';
const SERVICES = ['shop-orders', 'shop-billing'];

describe('Connect CA rotation (Consul 1.8.7)', () => {
  let agent: DevAgent;
  const nodes: MeshNode[] = [];

  beforeAll(async () => {
    agent = await DevAgent.start();
    const { outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    await deploySynth(outdir, 'two-nodes', agent);
    for (const node of [ORDERS, BILLING]) nodes.push(await MeshNode.start({ from: outdir, node, consulAddr: agent.httpAddr, cookie: COOKIE }));
    await waitDiscoverable(agent.api, SERVICES);
  });
  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await agent?.stop();
  });

  test('a new CA key and root, leaf TTL 1h: leaves re-issued and served, no pang on new connections', async () => {
    const [orders, billing] = nodes;
    expect(await orders.pingUntil(BILLING, 'pong', 30_000)).toBe('pong');
    const sidecarPorts = await Promise.all(SERVICES.map(async (s) => (await agent.api.service(`${s}-sidecar-proxy`))!.Port));
    const before = await caRoots(agent.api);
    const served = () => sidecarPorts.map((p) => servedCertificate('127.0.0.1', p));
    const oldRoot = before.roots.find((r) => r.active)!.rootCert;
    expect(served().every((c) => c !== undefined && signedBy(c, oldRoot))).toBe(true);

    await startRedialLoop(orders, BILLING);
    let rotatedAt = 0;
    let reissuedMs = -1;
    let r: RedialResult;
    let base: RedialResult | undefined;
    try {
      // New connections under the old root first: the longest gap without a rotation, to compare.
      await new Promise((res) => setTimeout(res, 8000));
      base = await markRedialLoop(orders);
      const ca = newCaRoot(before.trustDomain);
      // 1h is the shortest leaf TTL Consul 1.8.7 (and 1.14.11) accepts ("must be greater or equal than 1h0m0s").
      await setCaConfig(agent.api, ca, '1h');
      rotatedAt = Date.now();
      // Bounded: Consul spreads leaf re-issue over up to 30 s after a new root.
      const done = await poll(
        async () => {
          const roots = await caRoots(agent.api);
          const active = roots.roots.find((r) => r.active);
          const leaves = await Promise.all(SERVICES.map((s) => agentLeaf(agent.api, s)));
          return active?.rootCert.trim() === ca.rootCert.trim() && [...leaves, ...served()].every((c) => c !== undefined && signedBy(c, ca.rootCert));
        },
        (ok) => ok,
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      expect(done.met).toBe(true);
      reissuedMs = Date.now() - rotatedAt;
      await new Promise((r) => setTimeout(r, 5000)); // new connections with the new leaves only
      const leaf = served()[1]!;
      expect(lifetimeHours(leaf)).toBeLessThanOrEqual(1.05);
      expect((await caRoots(agent.api)).roots.map((r) => r.id)).toContain(before.activeRootId); // the old root stays trusted meanwhile
    } finally {
      r = await stopRedialLoop(orders);
      process.stdout.write(
        `[ca-rotation] consul 1.8.7: ${r.pongs} pongs, ${r.pangs} pangs, longest gap ${r.longestGapMs} ms ` +
          `(before the rotation: ${base?.pongs} pongs, ${base?.pangs} pangs, longest gap ${base?.longestGapMs} ms); ` +
          `new root and leaves served ${reissuedMs} ms after set-config\n`,
      );
    }
    expect(r.pangs).toBe(0);
    expect(r.pongs).toBeGreaterThan(20);
    // Every new connection needs both proxies' handshakes; a stall while they swap certificates would show here.
    expect(r.longestGapMs).toBeLessThan(3000);
    expect(await billing.pingUntil(ORDERS, 'pong', 10_000)).toBe('pong');
  });
});

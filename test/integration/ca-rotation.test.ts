// The Connect CA rotated under running nodes (Consul 1.8.7 dev agent, built-in proxies, real
// BEAMs): a new built-in CA key and root and a shorter leaf TTL, while a node keeps dialing new
// distribution connections, so leaves signed by the new root are used in new TLS handshakes.
import { IntentionsMode } from '../../lib';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { agentLeaf, lifetimeHours, rotateUnderRedial, servedCertificate } from '../../support/ca-rotation';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { deploySynth } from '../../support/terraform';

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
    const served = () => sidecarPorts.map((p) => servedCertificate('127.0.0.1', p));
    const leaves = () => Promise.all(SERVICES.map((s) => agentLeaf(agent.api, s)));
    const run = await rotateUnderRedial({ api: agent.api, from: orders, peer: BILLING, served, leaves, label: 'consul 1.8.7', pollMs: 500 });
    expect(run.reissuedMs).toBeGreaterThanOrEqual(0);
    expect(run.after?.roots.find((x) => x.active)?.rootCert.trim()).toBe(run.newRootCert?.trim());
    expect(lifetimeHours(run.servedAfter[1]!)).toBeLessThanOrEqual(1.05);
    expect(run.after?.roots.map((x) => x.id)).toContain(run.before.activeRootId); // the old root stays trusted meanwhile
    const r = run.redial;
    expect(r.pangs).toBe(0);
    expect(r.pongs).toBeGreaterThan(20);
    // Every new connection needs both proxies' handshakes; a stall while they swap certificates would show here.
    expect(r.longestGapMs).toBeLessThan(3000);
    expect(await billing.pingUntil(ORDERS, 'pong', 10_000)).toBe('pong');
  });
});

// A drained stop (--drain-timeout) on a real mesh: a peer that keeps dialing sees the node leave
// its health view and its upstream (pang) while the drained node's BEAM still runs; the BEAM is
// stopped only after the drain; a second signal during the drain stops at once.
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { IntentionsMode } from '../../lib';
import { deploySynth } from '../../support/terraform';
import { DevAgent } from '../../support/consul-dev-agent';
import { isAlive, MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';
import { poll } from '../../support/wait';

jest.setTimeout(180_000);

const COOKIE = 'drain-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.shop.test';
const BILLING = 'billing@billing-1.shop.test';
const DRAIN_S = 8;

describe('drain on stop', () => {
  let agent: DevAgent;
  let outdir: string;
  const nodes: MeshNode[] = [];
  const boot = async (node: string, extraRunArgs: string[] = []) => {
    const n = await MeshNode.start({ from: outdir, node, consulAddr: agent.httpAddr, cookie: COOKIE, extraRunArgs });
    nodes.push(n);
    return n;
  };
  /** The peer's view: billing's instances whose sidecar is passing, as upstream resolution sees them. */
  const passingBilling = async () => {
    const r = await agent.api.request('GET', '/v1/health/connect/shop-billing?passing');
    return (JSON.parse(r.text) as unknown[]).length;
  };
  const gone = async () => {
    expect(await agent.api.service('shop-billing')).toBeUndefined();
    expect(await agent.api.service('shop-billing-sidecar-proxy')).toBeUndefined();
  };

  beforeAll(async () => {
    agent = await DevAgent.start();
    ({ outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false })));
    await deploySynth(outdir, 'two-nodes', agent);
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test('a peer dialing the draining node sees it leave before its BEAM stops; the BEAM runs through the drain', async () => {
    const billing = await boot(BILLING, ['--drain-timeout', String(DRAIN_S)]);
    const orders = await boot(ORDERS);
    expect(await orders.pingUntil(BILLING, 'pong', 20_000)).toBe('pong');
    expect(await passingBilling()).toBe(1);
    const beamPid = billing.pidOf('beam')!;

    const t0 = Date.now();
    billing.child.kill('SIGTERM');
    // The health view first (a blocking query's view of the catalog), then a fresh dial.
    const view = await poll(passingBilling, (n) => n === 0, { timeoutMs: 5000, intervalMs: 50 });
    expect(view.met).toBe(true);
    const viewMs = Date.now() - t0;
    expect(await orders.pingUntil(BILLING, 'pang', 5000)).toBe('pang');
    const pangMs = Date.now() - t0;
    // Out of the peer's view and its upstream, yet the BEAM runs and nothing was undone.
    expect(isAlive(beamPid)).toBe(true);
    expect(billing.output).toMatch(/\[helper\] health critical: draining: stop requested \(SIGTERM\); the BEAM stops within 8s/);
    expect(billing.output).not.toMatch(/drain over/);
    expect(await agent.api.service('shop-billing')).toBeDefined();
    // Still running late in the drain; the peer keeps getting pang.
    await new Promise((r) => setTimeout(r, Math.max(0, (DRAIN_S - 2) * 1000 - (Date.now() - t0))));
    expect(isAlive(beamPid)).toBe(true);
    expect(await orders.ping(BILLING)).toBe('pang');

    expect(await billing.exited).toBe(0);
    const exitMs = Date.now() - t0;
    expect(exitMs).toBeGreaterThanOrEqual(DRAIN_S * 1000);
    // The peer lost it well within the drain (measured: 53 to 632 ms after the signal).
    expect(Math.max(viewMs, pangMs)).toBeLessThan(DRAIN_S * 1000);
    expect(billing.output).toMatch(/drain over after 8\.\ds \(drain timeout reached\)/);
    expect(await waitGone([beamPid], 5000)).toBe(true);
    await gone();
  });

  test('a second signal during the drain stops at once', async () => {
    const billing = await boot(BILLING, ['--drain-timeout', '60']);
    const pids = [billing.pidOf('proxy'), billing.pidOf('beam')];
    billing.child.kill('SIGTERM');
    await billing.waitForLog(/health critical: draining/, 10_000);
    const t0 = Date.now();
    billing.child.kill('SIGINT');
    expect(await billing.exited).toBe(128 + 9);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(billing.output).toMatch(/stop now: killing the BEAM and the proxy/);
    expect(billing.output).toMatch(/drain over after \d+\.\ds \(stop now\)/);
    expect(await waitGone(pids, 5000)).toBe(true);
    await gone();
  });
});

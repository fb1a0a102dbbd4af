// Signals to `meshx-node run`, sent for real to the helper of a real node: SIGHUP, a second
// SIGTERM, a signal during boot, and a proxy that dies while the BEAM drains.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { IntentionsMode } from '../../lib';
import { which } from '../../lib/runtime/child';
import { deploySynth } from '../../support/terraform';
import { DevAgent } from '../../support/consul-dev-agent';
import { isAlive, MeshNode, waitGone } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';

jest.setTimeout(180_000);

const COOKIE = 'signals-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.shop.test';

describe('signals to the helper', () => {
  let agent: DevAgent;
  let outdir: string;
  const nodes: MeshNode[] = [];
  const boot = async (extra: Partial<Parameters<typeof MeshNode.start>[0]> = {}) => {
    const n = await MeshNode.start({ from: outdir, node: ORDERS, consulAddr: agent.httpAddr, cookie: COOKIE, ...extra });
    nodes.push(n);
    return n;
  };
  const gone = async () => {
    expect(await agent.api.service('shop-orders')).toBeUndefined();
    expect(await agent.api.service('shop-orders-sidecar-proxy')).toBeUndefined();
  };

  beforeAll(async () => {
    agent = await DevAgent.start();
    const synth = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    outdir = synth.outdir;
    await deploySynth(outdir, 'two-nodes', agent);
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
  });
  afterAll(async () => {
    await agent?.stop();
  });

  test('SIGHUP stops cleanly: deregistered, no proxy or BEAM left, the BEAM\'s exit code', async () => {
    const orders = await boot();
    const pids = [orders.pidOf('proxy'), orders.pidOf('beam')];
    expect(await orders.stop('SIGHUP')).toBe(0);
    expect(orders.output).toMatch(/\[helper\] SIGHUP: stopping orders@/);
    await gone();
    expect(await waitGone(pids, 5000)).toBe(true);
  });

  test('a second SIGTERM escalates: a BEAM that ignores SIGTERM is killed now, not after the grace period', async () => {
    const orders = await boot({ extraRunArgs: ['--stop-timeout', '60'] });
    expect(await orders.eval('os:set_signal(sigterm, ignore)')).toBe('ok');
    const pids = [orders.pidOf('proxy'), orders.pidOf('beam')];
    orders.child.kill('SIGTERM');
    await orders.waitForLog(/SIGTERM: stopping/);
    const t0 = Date.now();
    orders.child.kill('SIGTERM');
    expect(await orders.exited).toBe(128 + 9);
    expect(Date.now() - t0).toBeLessThan(15000);
    expect(orders.output).toMatch(/stop now: killing the BEAM and the proxy/);
    await gone();
    expect(await waitGone(pids, 5000)).toBe(true);
  });

  test('a signal during boot undoes what started and exits 128+n', async () => {
    // A proxy that is slow to come up keeps the boot in its proxy-ready step, the BEAM started
    // beside it (its wait overlaps the BEAM's start): both undone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-sig-'));
    const slowConsul = path.join(dir, 'consul');
    fs.writeFileSync(slowConsul, `#!/bin/sh\necho "slow proxy pid $$"\nexec sleep 60\n`, { mode: 0o755 });
    expect(which('consul')).toBeDefined();
    const orders = await boot({ waitFor: 'nothing', extraRunArgs: ['--consul-bin', slowConsul] });
    const m = await orders.waitForLog(/slow proxy pid (\d+)/);
    expect(await agent.api.service('shop-orders')).toBeDefined();
    const beam = await orders.waitForLog(/started erl \(pid (\d+)\)/);
    orders.child.kill('SIGTERM');
    expect(await orders.exited).toBe(128 + 15);
    const undone = 'undoing proxy-ready, beam, proxy, dns, epmd, register, ports, state-dir';
    expect(orders.output).toContain(`boot step 'proxy-ready' interrupted (SIGTERM); ${undone}`);
    expect(orders.output).not.toMatch(/health passing/);
    await gone();
    expect(await waitGone([Number(m[1]), Number(beam[1])], 5000)).toBe(true);
  });

  test('supervision stops before the BEAM drains: a proxy that dies during shutdown is not restarted', async () => {
    const orders = await boot({ extraRunArgs: ['--stop-timeout', '3'] });
    expect(await orders.eval('os:set_signal(sigterm, ignore)')).toBe('ok');
    const proxyPid = orders.pidOf('proxy')!;
    orders.child.kill('SIGTERM');
    await orders.waitForLog(/SIGTERM: stopping/);
    process.kill(proxyPid, 'SIGKILL');
    // The BEAM drains for the whole grace period (3 s, six times the first restart delay).
    expect(await orders.exited).toBe(128 + 9);
    expect(isAlive(proxyPid)).toBe(false);
    expect(orders.output).not.toMatch(/restarting in|proxy back/);
    expect(orders.pidOf('proxy')).toBe(proxyPid);
    await gone();
  });
});

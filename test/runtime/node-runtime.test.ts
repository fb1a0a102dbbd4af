import { EventEmitter } from 'node:events';
import { NodeRuntime } from '../../lib/runtime/node-runtime';
import { BootStep } from '../../lib/runtime/steps/boot-step';
import { validManifest } from '../fixtures/manifests';

/** Fake steps around a fake BEAM: what the runtime does with them, without real processes. */
function fakes(opts: { proxyWaits?: boolean; readyTimeoutMs?: number; drainTimeoutMs?: number; registersInBoot?: boolean } = {}) {
  const events: string[] = [];
  const process = Object.assign(new EventEmitter(), {
    pid: 1,
    exitCode: null as number | null,
    signalCode: null,
    kill: (sig: string) => void events.push(`kill ${sig}`),
  });
  const epmd = Object.assign(new EventEmitter(), { registered: [] as Array<{ name: string }> });
  const step = (name: string, start: BootStep['start'] = async () => undefined, stop: BootStep['stop'] = async () => undefined): BootStep => ({
    name,
    start: async (signal) => {
      events.push(`start ${name}`);
      await start(signal);
    },
    stop: async () => {
      events.push(`stop ${name}`);
      await stop();
    },
  });
  let proxyStarted: () => void = () => undefined;
  const proxyStarting = new Promise<void>((r) => (proxyStarted = r));
  const beam = {
    process: process as never, spawnedAt: 0, exitCode: undefined as number | undefined, killNow: false, registeredAt: undefined as number | undefined,
  };
  const beamStep = step(
    'beam',
    async () => {
      beam.spawnedAt = Date.now();
      // As the beam step notes it, and the EPMD lists it.
      if (opts.registersInBoot) epmd.registered.push({ name: 'orders' });
      if (opts.registersInBoot) beam.registeredAt = beam.spawnedAt;
      process.once('exit', (code: number) => (beam.exitCode = code));
    },
    async () => {
      // As stopChild: the BEAM exits 0 on SIGTERM.
      if (beam.exitCode === undefined) beam.exitCode = beam.killNow ? 137 : 0;
    },
  );
  const kill = () => {
    beam.killNow = true;
    process.kill('SIGKILL');
  };
  // Health's part of a drain: the check critical, with the reason.
  const health = { ...step('health'), drain: async (reason: string) => void events.push(`drain health: ${reason}`) };
  const steps = [
    step('epmd'),
    health,
    step('proxy-ready', async (signal) => {
      proxyStarted();
      if (opts.proxyWaits) await new Promise((r) => signal.addEventListener('abort', r));
    }),
    { ...beamStep, kill },
  ];
  const logs: string[] = [];
  const o = {
    manifest: validManifest(), command: ['erl'], log: (l: string) => logs.push(l),
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000, drainTimeoutMs: opts.drainTimeoutMs ?? 0,
  } as never;
  const node = new NodeRuntime(o, { steps, beam, epmd: { server: epmd as never } });
  return { node, events, beam: process, epmd, logs, proxyStarting };
}

describe('NodeRuntime', () => {
  test('a command that exits 0 while its node never registered under its own name: exit 1, the refusal named', async () => {
    const { node, beam, epmd, logs } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    epmd.emit('refused', { name: 'orders', port: 25672, reason: "the node's own name registers only with its distribution port 9100, not 25672" });
    epmd.emit('registered', { name: 'rabbitmqcli-1', port: 40000 });
    beam.emit('exit', 0, null);
    expect(await done).toBe(1);
    expect(logs).toContain("orders@orders-1.shop.test never registered with the helper's EPMD before the command exited; "
      + "its registration (port 25672) was refused: the node's own name registers only with its distribution port 9100, not 25672");
  });

  test('a node that registered once keeps the command\'s exit 0', async () => {
    const { node, beam, epmd } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    epmd.emit('registered', { name: 'orders', port: 9100 });
    beam.emit('exit', 0, null);
    expect(await done).toBe(0);
  });

  test('not registered within the ready timeout: the node is stopped, exit 1 with the reason', async () => {
    const { node, events, logs } = fakes({ readyTimeoutMs: 50 });
    expect(await node.run()).toBe(1);
    expect(logs).toContain("orders@orders-1.shop.test never registered with the helper's EPMD within 0.05s of its start (--ready-timeout); stopping");
    expect(events.slice(4)).toEqual(['stop beam', 'stop proxy-ready', 'stop health', 'stop epmd']);
  });

  test('runs until the BEAM exits, then undoes every step in reverse and exits with its code', async () => {
    const { node, events, beam, epmd, logs } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    epmd.emit('registered', { name: 'orders', port: 9100 });
    expect(logs.find((l) => l.startsWith('boot steps:'))).toMatch(/^boot steps: epmd \d+ ms, proxy-ready \d+ ms, beam \d+ ms \(total \d+ ms\)$/);
    beam.emit('exit', 3, null);
    expect(await done).toBe(3);
    expect(events).toEqual([
      'start epmd', 'start health', 'start proxy-ready', 'start beam', 'stop beam', 'stop proxy-ready', 'stop health', 'stop epmd',
    ]);
  });

  test('a BEAM that registered during the boot steps (beside the proxy wait): boot steps logged when the steps end', async () => {
    const { node, beam, logs } = fakes({ registersInBoot: true });
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    expect(logs.find((l) => l.startsWith('boot steps:'))).toMatch(/^boot steps: epmd \d+ ms, proxy-ready \d+ ms, beam \d+ ms \(total \d+ ms\)$/);
    beam.emit('exit', 0, null);
    expect(await done).toBe(0);
  });

  test('a stop after boot stops the BEAM first and exits with its code', async () => {
    const { node, events } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    node.stop('SIGTERM');
    expect(await done).toBe(0);
    // No drain without --drain-timeout: today's stop.
    expect(events.slice(4)).toEqual(['stop beam', 'stop proxy-ready', 'stop health', 'stop epmd']);
  });

  describe('a drained stop (--drain-timeout)', () => {
    const booted = async (drainTimeoutMs: number) => {
      const f = fakes({ drainTimeoutMs });
      const done = f.node.run();
      await new Promise((r) => setImmediate(r));
      return { ...f, done };
    };

    test('out of service first, the BEAM still running for the drain timeout, then the stop as without', async () => {
      const { node, events, logs, done } = await booted(300);
      const t0 = Date.now();
      node.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      // Drained, not stopped: nothing undone yet.
      expect(events.slice(4)).toEqual(['drain health: stop requested (SIGTERM); the BEAM stops within 0.3s']);
      expect(await done).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(events.slice(5)).toEqual(['stop beam', 'stop proxy-ready', 'stop health', 'stop epmd']);
      expect(logs).toContain('draining orders@orders-1.shop.test for up to 0.3s (--drain-timeout): out of the catalog, the BEAM still running');
      expect(logs.find((l) => l.startsWith('drain over'))).toMatch(/^drain over after 0\.\ds \(drain timeout reached\)$/);
    });

    test('the BEAM exiting during the drain ends it, with the BEAM\'s code', async () => {
      const { node, beam, logs, done } = await booted(60_000);
      const t0 = Date.now();
      node.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      beam.emit('exit', 4, null);
      expect(await done).toBe(4);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(logs.find((l) => l.startsWith('drain over'))).toMatch(/\(the BEAM exited\)$/);
    });

    test('a kill during the drain stops at once: SIGKILL, exit 137', async () => {
      const { node, events, logs, done } = await booted(60_000);
      const t0 = Date.now();
      node.stop('SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
      node.kill();
      expect(await done).toBe(137);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(events).toContain('kill SIGKILL');
      expect(logs.find((l) => l.startsWith('drain over'))).toMatch(/\(stop now\)$/);
    });

    test('a BEAM that exited on its own is not drained', async () => {
      const { beam, epmd, events, done } = await booted(60_000);
      epmd.emit('registered', { name: 'orders', port: 9100 });
      beam.emit('exit', 0, null);
      expect(await done).toBe(0);
      expect(events.some((e) => e.startsWith('drain'))).toBe(false);
    });
  });

  test('a stop during boot abandons the step in progress, undoes the started ones, exits 128+n', async () => {
    const { node, events, logs, proxyStarting } = fakes({ proxyWaits: true });
    const done = node.run();
    await proxyStarting;
    node.stop('SIGHUP');
    expect(await done).toBe(128 + 1);
    expect(events).toEqual(['start epmd', 'start health', 'start proxy-ready', 'stop proxy-ready', 'stop health', 'stop epmd']);
    expect(logs).toContain('SIGHUP during boot: undone; exit 129');
  });

  test('kill escalates: SIGKILL to the BEAM now, exit 137', async () => {
    const { node, events } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    node.kill();
    expect(await done).toBe(137);
    expect(events).toContain('kill SIGKILL');
  });
});

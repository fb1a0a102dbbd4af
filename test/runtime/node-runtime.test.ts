import { EventEmitter } from 'node:events';
import { BootStep } from '../../lib/runtime/context';
import { bootSteps, NodeRuntime } from '../../lib/runtime/node-runtime';
import { validManifest } from '../fixtures/manifests';

/** Fake steps around a fake BEAM: what the runtime does with them, without real processes. */
function fakes(opts: { proxyWaits?: boolean } = {}) {
  const events: string[] = [];
  const beam = Object.assign(new EventEmitter(), { pid: 1, exitCode: null as number | null, signalCode: null, kill: (sig: string) => void events.push(`kill ${sig}`) });
  const epmd = new EventEmitter();
  const step = (name: string, start: BootStep['start'] = async () => undefined, stop: BootStep['stop'] = async () => undefined): BootStep => ({
    name,
    start: async (ctx) => {
      events.push(`start ${name}`);
      await start(ctx);
    },
    stop: async (ctx) => {
      events.push(`stop ${name}`);
      await stop(ctx);
    },
  });
  let proxyStarted: () => void = () => undefined;
  const proxyStarting = new Promise<void>((r) => (proxyStarted = r));
  const steps = [
    step('epmd', async (ctx) => {
      ctx.epmd = epmd as never;
    }),
    step('proxy-ready', async (ctx) => {
      proxyStarted();
      if (opts.proxyWaits) await new Promise((r) => ctx.signal.addEventListener('abort', r));
    }),
    step(
      'beam',
      async (ctx) => {
        ctx.beam = beam as never;
        ctx.beamSpawnedAt = Date.now();
        beam.once('exit', (code: number) => (ctx.beamExitCode = code));
      },
      async (ctx) => {
        // As stopChild: the BEAM exits 0 on SIGTERM.
        if (ctx.beamExitCode === undefined) ctx.beamExitCode = ctx.killNow ? 137 : 0;
      },
    ),
  ];
  const logs: string[] = [];
  const node = new NodeRuntime({ manifest: validManifest(), command: ['erl'], log: (l: string) => logs.push(l) } as never, steps);
  return { node, events, beam, epmd, logs, proxyStarting };
}

describe('NodeRuntime', () => {
  test('runs until the BEAM exits, then undoes every step in reverse and exits with its code', async () => {
    const { node, events, beam, epmd, logs } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    epmd.emit('registered', { name: 'orders', port: 9100 });
    expect(logs.find((l) => l.startsWith('boot steps:'))).toMatch(/^boot steps: epmd \d+ ms, proxy-ready \d+ ms, beam \d+ ms \(total \d+ ms\)$/);
    beam.emit('exit', 3, null);
    expect(await done).toBe(3);
    expect(events).toEqual(['start epmd', 'start proxy-ready', 'start beam', 'stop beam', 'stop proxy-ready', 'stop epmd']);
  });

  test('a stop after boot stops the BEAM first and exits with its code', async () => {
    const { node, events } = fakes();
    const done = node.run();
    await new Promise((r) => setImmediate(r));
    node.stop('SIGTERM');
    expect(await done).toBe(0);
    expect(events.slice(3)).toEqual(['stop beam', 'stop proxy-ready', 'stop epmd']);
  });

  test('a stop during boot abandons the step in progress, undoes the started ones, exits 128+n', async () => {
    const { node, events, logs, proxyStarting } = fakes({ proxyWaits: true });
    const done = node.run();
    await proxyStarting;
    node.stop('SIGHUP');
    expect(await done).toBe(128 + 1);
    expect(events).toEqual(['start epmd', 'start proxy-ready', 'stop proxy-ready', 'stop epmd']);
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

describe('bootSteps', () => {
  test('with --kv the manifest watch comes last (started after the BEAM, stopped first); --manifest and --from have none', () => {
    expect(bootSteps({ kvKey: 'meshx/shop/nodes/shop-orders' }).map((st) => st.name)).toEqual(['state-dir', 'ports', 'register', 'epmd', 'dns', 'proxy-ready', 'health', 'beam', 'watch']);
    expect(bootSteps({}).map((st) => st.name)).not.toContain('watch');
  });
});

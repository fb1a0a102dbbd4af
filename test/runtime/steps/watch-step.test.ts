import { resolveReplica } from '../../../lib/manifest/replicas';
import { validateGroupManifest, validateManifest } from '../../../lib/manifest/validate';
import { WatchStep } from '../../../lib/runtime/steps/watch-step';
import { LiveFiles, versionOf } from '../../../lib/runtime/topology/outputs';
import { validGroupManifest, validManifest } from '../../fixtures/manifests';
import { picked, registered, runOptions, serving, somePorts } from '../../fixtures/run-options';

const KEY = 'meshx/shop/nodes/shop-orders';

/**
 * A watch step over a fake agent whose KV answers come from `answers` (index -> [index, value]);
 * a query with no answer blocks, as a blocking query does, until the watch aborts it.
 */
function setup(answers: Record<number, [number, string | undefined]>) {
  const queries: number[] = [];
  const aborted: number[] = [];
  const agent = {
    kvWatch: (key: string, index: number, _waitS: number, signal: AbortSignal) => {
      queries.push(index);
      const a = answers[index];
      if (key === KEY && a) return Promise.resolve({ index: a[0], value: a[1] });
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push(index);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        }),
      );
    },
  };
  const m = validateManifest(validManifest());
  const o = runOptions({ agent, manifest: m });
  o.stateDir.create();
  o.stateDir.lock();
  const ports = somePorts({ upstreams: m.upstreams.map((u, i) => ({ ...u, port: 30001 + i })) });
  const register = registered(o, ports);
  const dns = { port: 5353, setHosts: () => undefined };
  const files = new LiveFiles(o.stateDir, { registration: register.registration, epmdPort: 4370, dns }, versionOf(m, `kv:${KEY}`));
  const epmd = serving({ addAddress: async () => undefined, setPeers: () => undefined });
  const step = new WatchStep(o, KEY, { ports: picked(ports), register, epmd, proxy: serving({} as never), beam: { liveFiles: files } });
  const until = async (done: () => boolean) => {
    for (const t0 = Date.now(); !done(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() - t0 > 5000) throw new Error('timed out');
  };
  return { o, step, files, queries, aborted, until, boot: m, registration: register.registration };
}

describe('watch step', () => {
  test('follows the key from index 0: the version the node runs gets its index; stop aborts the query in flight', async () => {
    const { o, step, files, queries, aborted, until } = setup({ 0: [17, JSON.stringify(validManifest())] });
    await step.start();
    try {
      expect(o.logs).toContain(`watching kv:${KEY} for new manifest versions`);
      await until(() => queries.length === 2);
      expect(queries).toEqual([0, 17]);
      expect(files.version.index).toBe(17);
      expect(o.stateDir.readState().version).toMatchObject({ source: `kv:${KEY}`, index: 17 });
    } finally {
      step.preStop();
      await step.stop();
    }
    expect(aborted).toEqual([17]);
    expect(queries).toEqual([0, 17]);
    o.stateDir.remove();
  });

  test('a version a running node cannot take is refused: state.json says so, the node stays on its version', async () => {
    const other = JSON.stringify({ ...validManifest(), node: 'audit@audit-1.shop.test' });
    const { o, step, files, queries, until, boot, registration } = setup({ 0: [17, JSON.stringify(validManifest())], 17: [18, other] });
    await step.start();
    try {
      await until(() => queries.length === 3);
      expect(o.stateDir.readState().refused).toMatchObject({ index: 18, reason: expect.stringMatching(/manifest field 'node' changed/) });
      expect(o.logs).toContainEqual(expect.stringMatching(/^manifest version 18 refused: .*; still on version 17$/));
      expect(files.version.index).toBe(17);
      expect(registration.manifest).toBe(boot);
    } finally {
      await step.stop();
    }
    o.stateDir.remove();
  });

  test('stop before start, or twice, is harmless', async () => {
    const { o, step } = setup({});
    step.preStop();
    await step.stop();
    await step.stop();
    o.stateDir.remove();
  });
});

describe("watch step of a replica's peer groups", () => {
  const OWN = 'api@api-1.shop.test';

  /** A replica's watch step without --kv; the agent answers each group's first query with `first`, then blocks. */
  function setup(first: Record<string, string[]>) {
    const asked: Array<[string, string, number]> = [];
    const aborted: string[] = [];
    const agent = {
      passingMembers: (service: string, mesh: string, index: number, _waitS: number, signal: AbortSignal) => {
        asked.push([service, mesh, index]);
        if (index === 0 && first[service]) return Promise.resolve({ index: 5, nodes: first[service] });
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            aborted.push(service);
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          }),
        );
      },
      kvWatch: () => Promise.reject(new Error('no KV watch without --kv')),
    };
    const m = validateManifest(resolveReplica(validateGroupManifest(validGroupManifest()), OWN));
    const o = runOptions({ agent, manifest: m });
    o.stateDir.create();
    o.stateDir.lock();
    const ports = somePorts({ upstreams: m.upstreams.map((u, i) => ({ ...u, port: 30001 + i })) });
    const register = registered(o, ports);
    const dns = { port: 5353, setHosts: () => undefined };
    const files = new LiveFiles(o.stateDir, { registration: register.registration, epmdPort: 4370, dns }, versionOf(m, 'manifest'));
    const epmd = serving({ addAddress: async () => undefined, setPeers: () => undefined });
    const step = new WatchStep(o, undefined, { ports: picked(ports), register, epmd, proxy: serving({} as never), beam: { liveFiles: files } });
    const until = async (done: () => boolean) => {
      for (const t0 = Date.now(); !done(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() - t0 > 5000) throw new Error('timed out');
    };
    return { o, m, step, asked, aborted, until, registration: register.registration };
  }

  test('without --kv: one member watch per peer group, in its mesh; none of KV; stop aborts every query', async () => {
    const { o, m, step, asked, aborted, until } = setup({});
    await step.start();
    try {
      await until(() => asked.length === 2);
      expect(asked.map(([service, mesh]) => [service, mesh]).sort()).toEqual(m.peerGroups!.map((g) => [g.service, 'shop']).sort());
      expect(o.logs).toEqual(m.peerGroups!.map((g) => `following the passing members of group ${g.service}`));
      expect(o.logs.join('\n')).not.toContain('watching kv:');
    } finally {
      step.preStop();
      await step.stop();
    }
    expect(aborted.sort()).toEqual(m.peerGroups!.map((g) => g.service).sort());
    o.stateDir.remove();
  });

  test("members that are only the replica itself reach the follower and change nothing", async () => {
    const { o, step, asked, until, registration } = setup({ 'shop-api': [OWN] });
    const before = registration.ports;
    await step.start();
    try {
      // The set was handled ('applied'): the next query blocks on its index.
      await until(() => asked.some(([service, , index]) => service === 'shop-api' && index === 5));
      expect(registration.ports).toBe(before);
      expect(o.logs.filter((l) => !l.startsWith('following'))).toEqual([]);
    } finally {
      await step.stop();
    }
    o.stateDir.remove();
  });
});

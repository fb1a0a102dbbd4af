import { LiveRegistration } from '../../lib/runtime/live-registration';
import { validManifest } from '../fixtures/manifests';
import { runOptions, somePorts } from '../fixtures/run-options';

/** A fake agent that records the check IDs of each registration and the checks registered. */
function setup(manifest = validManifest()) {
  const calls: string[] = [];
  const agent = {
    registerService: async (d: any) => void calls.push(`register ${d.Checks.map((c: any) => c.CheckID).join(',')}`),
    registerCheck: async (d: any) => void calls.push(`check ${d.ID} ${d.TCP}`),
  };
  const o = runOptions({ agent, manifest });
  return { o, calls, live: new LiveRegistration(o, somePorts()) };
}

describe('LiveRegistration', () => {
  test("once the agent's check on the BEAM is in force, every registration carries it", async () => {
    const { live, calls } = setup();
    await live.register();
    expect(live.distCheck).toBe(false);
    await live.addDistCheck();
    await live.register();
    expect(live.distCheck).toBe(true);
    expect(calls).toEqual(['register shop-orders:beam', 'check shop-orders:dist 127.0.0.1:9100', 'register shop-orders:beam,shop-orders:dist']);
  });

  test('an upstream port fixed in the manifest is not moved; a picked one is, registered again', async () => {
    const fixed = validManifest();
    fixed.upstreams[0].port = 19001;
    const a = setup(fixed);
    expect(await a.live.moveUpstream('127.0.0.2', 19001)).toBe(false);
    expect(a.calls).toEqual([]);
    const b = setup();
    expect(await b.live.moveUpstream('127.0.0.2', 19001)).toBe(true);
    expect(b.live.ports.upstreams[0].port).not.toBe(19001);
    expect(b.calls).toEqual(['register shop-orders:beam']);
    expect(b.o.logs[0]).toMatch(/^upstream listener 127\.0\.0\.2:19001 \(shop-billing\) is in use on this host; registering with \d+$/);
  });

  test('a new version switches manifest and ports together', () => {
    const { live, o } = setup();
    const next = { ...o.manifest, upstreams: [] };
    const ports = somePorts({ upstreams: [] });
    live.switchTo(next, ports);
    expect(live.manifest).toBe(next);
    expect(live.ports).toBe(ports);
  });
});

import { EventEmitter } from 'node:events';
import { DrainWait } from '../../lib/runtime/drain';

describe('DrainWait', () => {
  const beam = (exitCode?: number) => ({ exitCode, process: new EventEmitter() });

  test('ends when the timeout passes', async () => {
    const t0 = Date.now();
    const b = beam();
    expect(await new DrainWait().wait(100, b)).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(b.process.listenerCount('exit')).toBe(0);
  });

  test('ends when the BEAM exits, or at once when it has exited', async () => {
    const b = beam();
    const waiting = new DrainWait().wait(60_000, b);
    b.process.emit('exit');
    expect(await waiting).toBe('beam-exited');
    expect(await new DrainWait().wait(60_000, beam(0))).toBe('beam-exited');
  });

  test('a cut ends it at once, also one that came before the wait', async () => {
    const d = new DrainWait();
    const waiting = d.wait(60_000, beam());
    d.cut();
    expect(await waiting).toBe('cut');
    const early = new DrainWait();
    early.cut();
    expect(await early.wait(60_000, beam())).toBe('cut');
  });
});

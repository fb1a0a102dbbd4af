import { spawnTied, stopChild, which } from '../../lib/runtime/child';

describe('child processes', () => {
  test('which finds executables on PATH and by path', () => {
    expect(which('sh')).toMatch(/\/sh$/);
    expect(which('/bin/sh')).toBe('/bin/sh');
    expect(which('no-such-command-xyz')).toBeUndefined();
  });

  test('stopChild: SIGTERM first, SIGKILL after the grace period, 128+signal as the code', async () => {
    const polite = spawnTied(['sleep', '30'], { stdio: 'ignore' });
    expect(await stopChild(polite, 2000)).toBe(128 + 15);
    const stubborn = spawnTied(['sh', '-c', 'trap "" TERM; sleep 30'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    expect(await stopChild(stubborn, 300)).toBe(128 + 9);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  test('stopChild repeats SIGTERM until the child exits (a BEAM drops one sent early in its boot)', async () => {
    // Ignores the first SIGTERM, exits 7 on the second: a single SIGTERM would end in SIGKILL.
    const deaf = spawnTied(['sh', '-c', 'n=0; trap \'n=$((n+1)); [ $n -ge 2 ] && exit 7\' TERM; while :; do sleep 0.05; done'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    expect(await stopChild(deaf, 5000, 100)).toBe(7);
  });

  test('spawnTied keeps the pid of the command (setpriv execs it)', async () => {
    const c = spawnTied(['sh', '-c', 'echo $$'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const out = await new Promise<string>((r) => { let s = ''; c.stdout!.on('data', (d) => (s += d)); c.on('exit', () => r(s)); });
    expect(Number(out.trim())).toBe(c.pid);
  });
});

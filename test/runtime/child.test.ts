import { spawnTied, stopChild, which } from '../../lib/runtime/child';
import { createLogger } from '../../lib/runtime/log';
import { canConnect, isFree, probeFreePort, resolvePort } from '../../lib/runtime/ports';
import * as net from 'node:net';

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

describe('ports and logs', () => {
  test('resolvePort picks a free port for 0, proves a fixed one free, names a taken one', async () => {
    const p = await resolvePort('f', '127.0.0.1', 0);
    expect(p).toBeGreaterThan(0);
    expect(await isFree('127.0.0.1', p)).toBe(true);
    const s = await new Promise<net.Server>((r) => { const srv = net.createServer().listen(p, '127.0.0.1', () => r(srv)); });
    expect(await canConnect('127.0.0.1', p)).toBe(true);
    await expect(resolvePort('service.distPort', '127.0.0.1', p)).rejects.toThrow(`service.distPort: port ${p} on 127.0.0.1 is already in use`);
    s.close();
    expect(await probeFreePort('127.0.0.1', p)).toBe(p);
  });

  test('logger prefixes every line with [node][part]', () => {
    const out: string[] = [];
    createLogger('a@h', 'helper', (l) => out.push(l))('one\ntwo');
    expect(out).toEqual(['[a@h][helper] one\n', '[a@h][helper] two\n']);
  });
});

import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { processAlive } from '../../lib/runtime/instance';
import { groupMembers, liveMembers, parseStat, spawnGroup, stopGroup } from '../../lib/runtime/process-group';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The pid a child printed on its first stdout line. */
const firstLine = (c: ChildProcess) => new Promise<string>((resolve) => {
  let s = '';
  c.stdout!.on('data', (d) => {
    s += d;
    if (s.includes('\n')) resolve(s.split('\n')[0]);
  });
});
/** Alive and not a zombie (pid 1 may not reap orphans here). */
const alive = processAlive;

describe('process group of the command', () => {
  const leaders: number[] = [];
  afterEach(() => {
    for (const pgid of leaders.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // empty
      }
    }
  });

  test('parseStat reads pid, state and pgrp, whatever the command name holds', () => {
    expect(parseStat('123 (beam.smp) S 1 120 120 0 -1 4194560 0')).toEqual({ pid: 123, state: 'S', pgrp: 120 });
    expect(parseStat('7 (a (b) c) Z 1 9 9 0')).toEqual({ pid: 7, state: 'Z', pgrp: 9 });
    expect(parseStat('garbage')).toBeUndefined();
  });

  test('liveMembers keeps the group\'s processes, not zombies nor other groups', () => {
    const stats = [
      { pid: 10, state: 'S', pgrp: 10 },
      { pid: 11, state: 'Z', pgrp: 10 },
      { pid: 12, state: 'R', pgrp: 10 },
      { pid: 13, state: 'S', pgrp: 99 },
      undefined,
    ];
    expect(liveMembers(stats, 10)).toEqual([10, 12]);
    expect(liveMembers(stats, 5)).toEqual([]);
  });

  test('spawnGroup: the command leads a new group; stopGroup stops the grandchildren too', async () => {
    // A shell that forks a grandchild and waits on it (no exec): the start script.
    const c = spawnGroup(['sh', '-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    leaders.push(c.pid!);
    const grandchild = Number(await firstLine(c));
    expect(groupMembers(c.pid!)).toEqual([c.pid!, grandchild].sort((a, b) => a - b));
    expect(groupMembers(process.pid)).not.toContain(c.pid);
    expect(await stopGroup(c, 2000)).toBe(128 + 15);
    expect(groupMembers(c.pid!)).toEqual([]);
    expect(alive(grandchild)).toBe(false);
  });

  test('stopGroup waits for a grandchild that outlives the direct child, SIGKILL after the grace', async () => {
    // The direct child dies of the SIGTERM; its grandchild ignores SIGTERM: killed at the grace.
    const deafScript = 'sh -c \'trap "" TERM; echo $$; while :; do sleep 0.05; done\' & wait';
    const c = spawnGroup(['sh', '-c', deafScript], { stdio: ['ignore', 'pipe', 'ignore'] });
    leaders.push(c.pid!);
    const deaf = Number(await firstLine(c));
    await sleep(100);
    const t0 = Date.now();
    expect(await stopGroup(c, 400, 100)).toBe(128 + 15);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(groupMembers(c.pid!)).toEqual([]);
    expect(alive(deaf)).toBe(false);
  });

  test('stopGroup keeps the direct child\'s exit code when it is the group (the direct-exec case)', async () => {
    const c = spawnGroup(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done'], { stdio: 'ignore' });
    leaders.push(c.pid!);
    await sleep(200);
    expect(await stopGroup(c, 5000, 100)).toBe(7);
  });

  test('the watchdog kills the group when its writer dies, and lets it be once disarmed', async () => {
    // A stand-in helper: a node process that starts a group and its watchdog, prints both, then waits.
    const helperSrc = `
      const { spawnGroup, GroupWatchdog } = require(${JSON.stringify(path.join(__dirname, '../../lib/runtime/process-group.js'))});
      const c = spawnGroup(['sh', '-c', 'sleep 30 & wait'], { stdio: 'ignore' });
      const w = new GroupWatchdog(c.pid);
      console.log(c.pid + ' ' + w.pid);
      if (process.argv[1] === 'disarm') { setTimeout(() => { w.disarm(); setTimeout(() => console.log('disarmed'), 100); }, 100); }
      setInterval(() => undefined, 1000);`;
    for (const mode of ['die', 'disarm']) {
      const helper = spawn(process.execPath, ['-e', helperSrc, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [pgid, wd] = (await firstLine(helper)).split(' ').map(Number);
      leaders.push(pgid);
      for (let i = 0; i < 100 && groupMembers(pgid).length < 2; i++) await sleep(10);
      expect(groupMembers(pgid).length).toBe(2);
      if (mode === 'disarm') {
        await new Promise<void>((r) => helper.stdout!.on('data', (d) => String(d).includes('disarmed') && r()));
        await sleep(100);
        expect(alive(wd)).toBe(false);
      }
      helper.kill('SIGKILL');
      const t0 = Date.now();
      while (groupMembers(pgid).length > 0 && Date.now() - t0 < 3000) await sleep(5);
      // Died with the helper; disarmed, only the direct child dies (its parent-death signal) and
      // the grandchild runs on until the test's cleanup.
      expect(groupMembers(pgid).length).toBe(mode === 'die' ? 0 : 1);
    }
  }, 20_000);
});

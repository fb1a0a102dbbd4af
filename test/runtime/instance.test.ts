import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { helperAlive, processAlive } from '../../lib/runtime/instance';
import { spawnTied } from '../../lib/runtime/child';
import { standInHelper } from '../util';

describe('helperAlive', () => {
  test('this helper is alive; a gone pid is not; a live pid running something else (pid reuse) is not', async () => {
    expect(helperAlive(process.pid)).toBe(true);
    expect(helperAlive(spawnSync('true').pid!)).toBe(false);
    const other = spawnTied(['sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      expect(helperAlive(other.pid!)).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a live meshx-node helper is alive', async () => {
    const helper = await standInHelper();
    try {
      const until = Date.now() + 5000;
      while (!helperAlive(helper.pid!) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(helperAlive(helper.pid!)).toBe(true);
    } finally {
      helper.kill('SIGKILL');
    }
  });
});

describe('processAlive', () => {
  test('a live process of any kind is alive; a gone pid and a zombie are not', async () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(spawnSync('true').pid!)).toBe(false);
    const child = spawnTied(['sleep', '30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(processAlive(child.pid!)).toBe(true);
      // Exited but not yet reaped by us: a zombie.
      const zombie = spawnTied(['sh', '-c', 'exit 0'], { stdio: 'ignore' });
      zombie.removeAllListeners('exit');
      const pid = zombie.pid!;
      const until = Date.now() + 5000;
      while (!/^\d+ \(.*\) Z/.test(readStat(pid)) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      expect(readStat(pid)).toMatch(/\) Z/);
      expect(processAlive(pid)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

function readStat(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

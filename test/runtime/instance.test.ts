import { spawnSync } from 'node:child_process';
import { helperAlive } from '../../lib/runtime/instance';
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

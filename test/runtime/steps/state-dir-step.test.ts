import * as fs from 'node:fs';
import { InstanceConflict, StateDir } from '../../../lib/runtime/state-dir';
import { StateDirStep } from '../../../lib/runtime/steps/state-dir-step';
import { runOptions } from '../../fixtures/run-options';

describe('state dir step', () => {
  test('start creates and locks the dir; stop removes it', async () => {
    const o = runOptions();
    const step = new StateDirStep(o);
    await step.start();
    expect(fs.readFileSync(o.stateDir.lockPath, 'utf8').trim()).toBe(String(process.pid));
    await step.stop();
    expect(fs.existsSync(o.stateDir.dir)).toBe(false);
  });

  test("a second helper's start fails and its stop leaves the first's dir and lock alone", async () => {
    const first = runOptions();
    const firstStep = new StateDirStep(first);
    await firstStep.start();
    const second = new StateDirStep({ stateDir: new StateDir(first.stateDir.dir) });
    await expect(second.start()).rejects.toBeInstanceOf(InstanceConflict);
    await second.stop();
    expect(fs.existsSync(first.stateDir.lockPath)).toBe(true);
    await firstStep.stop();
  });
});

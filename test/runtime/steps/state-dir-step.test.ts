import * as fs from 'node:fs';
import { InstanceConflict } from '../../../lib/runtime/state-dir';
import { stateDirStep } from '../../../lib/runtime/steps/state-dir-step';
import { bootContext } from '../../fixtures/context';

describe('state dir step', () => {
  test('start creates and locks the dir; stop removes it', async () => {
    const ctx = bootContext();
    await stateDirStep.start(ctx);
    expect(fs.readFileSync(ctx.o.stateDir.lockPath, 'utf8').trim()).toBe(String(process.pid));
    await stateDirStep.stop(ctx);
    expect(fs.existsSync(ctx.o.stateDir.dir)).toBe(false);
  });

  test("a second helper's start fails and its stop leaves the first's dir and lock alone", async () => {
    const first = bootContext();
    await stateDirStep.start(first);
    const second = { ...bootContext(), o: { ...bootContext().o, stateDir: new (first.o.stateDir.constructor as any)(first.o.stateDir.dir) } } as typeof first;
    await expect(stateDirStep.start(second)).rejects.toBeInstanceOf(InstanceConflict);
    await stateDirStep.stop(second);
    expect(fs.existsSync(first.o.stateDir.lockPath)).toBe(true);
    await stateDirStep.stop(first);
  });
});

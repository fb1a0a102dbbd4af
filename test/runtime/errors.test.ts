import { InputError, RuntimeFailure } from '../../lib/runtime/errors';
import { InstanceConflict } from '../../lib/runtime/state-dir';

describe('runtime errors carry their exit code', () => {
  test('bad input 2, run-time failure 1, a second instance is a run-time failure', () => {
    expect(new InputError('x').exitCode).toBe(2);
    expect(new RuntimeFailure('x').exitCode).toBe(1);
    expect(new InstanceConflict('x')).toBeInstanceOf(RuntimeFailure);
    expect(new InstanceConflict('x').exitCode).toBe(1);
  });
});

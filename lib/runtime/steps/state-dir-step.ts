import { RunOptions } from '../run-options';
import { BootStep } from './boot-step';

/**
 * The state dir first: an unsafe or unusable one must fail before anything is registered, and
 * its lock keeps a second helper of the same node from touching anything.
 */
export class StateDirStep implements BootStep {
  public readonly name = 'state-dir';

  constructor(private readonly o: Pick<RunOptions, 'stateDir'>) {}

  public async start(): Promise<void> {
    this.o.stateDir.create();
    this.o.stateDir.lock();
  }

  public async stop(): Promise<void> {
    this.o.stateDir.remove();
  }
}

import { BootStep } from '../context';

/**
 * The state dir first: an unsafe or unusable one must fail before anything is registered, and
 * its lock keeps a second helper of the same node from touching anything.
 */
export const stateDirStep: BootStep = {
  name: 'state-dir',
  async start(ctx) {
    ctx.o.stateDir.create();
    ctx.o.stateDir.lock();
  },
  async stop(ctx) {
    ctx.o.stateDir.remove();
  },
};

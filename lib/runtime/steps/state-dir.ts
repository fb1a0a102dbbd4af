import { BootStep } from '../context';
import { RuntimeFailure } from '../errors';

/** The state dir first: an unusable one must fail before anything is registered. */
export const stateDirStep: BootStep = {
  name: 'state-dir',
  async start(ctx) {
    try {
      ctx.o.stateDir.create();
    } catch (e) {
      throw new RuntimeFailure(`--state-dir: cannot create ${ctx.o.stateDir.dir}: ${(e as Error).message}`);
    }
  },
  async stop(ctx) {
    ctx.o.stateDir.remove();
  },
};

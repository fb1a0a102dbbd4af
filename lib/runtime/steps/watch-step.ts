import { BootContext, BootStep } from '../context';
import { TopologyFollower } from '../topology/follow';
import { KvWatch } from '../topology/kv-watch';

const watches = new WeakMap<BootContext, KvWatch>();

/**
 * With --kv, after the BEAM is spawned: follows the manifest key with blocking queries and
 * applies each valid new version while the BEAM runs (topology/). Stopped first, so no version
 * is applied while the node goes down.
 */
export const watchStep: BootStep = {
  name: 'watch',
  async start(ctx) {
    const key = ctx.o.kvKey;
    if (!key) return;
    const follower = new TopologyFollower(ctx, `kv:${key}`);
    const watch = new KvWatch({ agent: ctx.o.agent, key, log: ctx.o.log, onVersion: (text, index) => follower.onVersion(text, index) });
    watches.set(ctx, watch);
    watch.start();
    ctx.o.log(`watching kv:${key} for new manifest versions`);
  },
  preStop(ctx) {
    void watches.get(ctx)?.stop();
  },
  async stop(ctx) {
    await watches.get(ctx)?.stop();
  },
};

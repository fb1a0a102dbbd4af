import { EventEmitter } from 'node:events';

/** Why a drain's wait ended: its timeout, the BEAM's exit, or a stop now (a second signal). */
export type DrainEnd = 'timeout' | 'beam-exited' | 'cut';

/**
 * The wait of a drained stop, the node out of the catalog and its BEAM still running: until the
 * drain timeout passes, the BEAM exits, or cut() is called. A cut before the wait ends it at once.
 */
export class DrainWait {
  private cutShort = false;
  private onCut?: () => void;

  public cut(): void {
    this.cutShort = true;
    this.onCut?.();
  }

  public wait(ms: number, beam: { readonly exitCode?: number; readonly process: EventEmitter }): Promise<DrainEnd> {
    if (this.cutShort) return Promise.resolve('cut');
    if (beam.exitCode !== undefined) return Promise.resolve('beam-exited');
    let timer: NodeJS.Timeout | undefined;
    let onExit: (() => void) | undefined;
    return new Promise<DrainEnd>((resolve) => {
      // setTimeout takes at most 2^31-1 ms (about 24.8 days).
      timer = setTimeout(() => resolve('timeout'), Math.min(ms, 2 ** 31 - 1));
      onExit = () => resolve('beam-exited');
      beam.process.once('exit', onExit);
      this.onCut = () => resolve('cut');
    }).finally(() => {
      clearTimeout(timer);
      beam.process.off('exit', onExit!);
      this.onCut = undefined;
    });
  }
}

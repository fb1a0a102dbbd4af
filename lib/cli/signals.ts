/** What a running command does on signals. */
export interface Stoppable {
  stop(sig: NodeJS.Signals): void;
  kill(): void;
}

/**
 * SIGTERM, SIGINT and SIGHUP stop the node cleanly (SIGHUP too: a closed terminal must not kill
 * the helper without deregistering); a second SIGTERM or SIGINT means "now" and escalates.
 * Returns the function that removes the handlers.
 */
export function handleSignals(target: Stoppable, opts: { interactive?: boolean } = {}): () => void {
  let stopping = false;
  const on = (sig: NodeJS.Signals) => {
    // An interactive BEAM (iex on a terminal) gets the terminal's SIGINT itself.
    if (sig === 'SIGINT' && opts.interactive) return;
    if (!stopping) {
      stopping = true;
      target.stop(sig);
    } else if (sig !== 'SIGHUP') {
      target.kill();
    }
  };
  const sigs: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const s of sigs) process.on(s, on);
  return () => {
    for (const s of sigs) process.off(s, on);
  };
}

import * as fs from 'node:fs';

/**
 * True while `pid` is a live meshx-node helper. A pid that exists but runs something else (the
 * pid was reused after the helper died) is not one.
 */
export function helperAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('meshx-node');
  } catch {
    // No /proc (or not ours to read): trust the signal probe.
    return true;
  }
}

import * as fs from 'node:fs';

/**
 * True while `pid` is a live process: it exists (a signal probe finds it, or it is not ours to
 * signal) and is not a zombie. Where /proc cannot say, the signal probe is trusted; a process
 * that is gone by the time /proc is read is not alive.
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return !procGone(pid);
  return !/^\d+ \(.*\) Z/.test(stat);
}

/**
 * True while `pid` is a live meshx-node helper. A pid that exists but runs something else (the
 * pid was reused after the helper died) is not one.
 */
export function helperAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!processAlive(pid)) return false;
  const cmdline = readProc(pid, 'cmdline');
  // No /proc (or not ours to read): trust the probe.
  return cmdline === undefined ? !procGone(pid) : cmdline.includes('meshx-node');
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The process has no /proc entry although /proc is there: it is gone. */
function procGone(pid: number): boolean {
  return fs.existsSync('/proc/self') && !fs.existsSync(`/proc/${pid}`);
}

import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let setprivPath: string | null | undefined;

/** setpriv (util-linux) on Linux, to give children a parent-death signal. */
function setpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform === 'linux') {
    for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
      const p = path.join(dir, 'setpriv');
      if (fs.existsSync(p)) {
        setprivPath = p;
        break;
      }
    }
  }
  return setprivPath;
}

/** Finds an executable the way a shell would, or undefined. */
export function which(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  const isExec = (p: string) => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return isExec(command) ? path.resolve(command) : undefined;
  for (const dir of envPath.split(':')) {
    const p = path.join(dir || '.', command);
    if (isExec(p)) return p;
  }
  return undefined;
}

/**
 * Spawns a child that the kernel kills if the helper dies, even by SIGKILL (PR_SET_PDEATHSIG
 * through `setpriv --pdeathsig KILL`, which execs the command: same pid, nothing in between).
 */
export function spawnTied(argv: string[], options: SpawnOptions): ChildProcess {
  const sp = setpriv();
  const [cmd, ...args] = sp ? [sp, '--pdeathsig', 'KILL', '--', ...argv] : argv;
  return spawn(cmd, args, options);
}

/**
 * Sends SIGTERM, repeated every `repeatMs` until the child exits, then SIGKILL once `graceMs` ran
 * out; resolves with the exit code (128+signal when killed). The repeat is for the BEAM: on OTP 25
 * a SIGTERM that arrives in its first ~100 ms (before its signal handling is set up) is dropped and
 * the node runs on, while a later one stops it.
 */
export function stopChild(child: ChildProcess, graceMs: number, repeatMs = 500): Promise<number> {
  return new Promise((resolve) => {
    const code = () => (child.exitCode ?? (child.signalCode ? 128 + signalNumber(child.signalCode) : 1));
    if (child.exitCode !== null || child.signalCode !== null) return resolve(code());
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const repeat = setInterval(() => child.kill('SIGTERM'), repeatMs);
    child.once('exit', () => {
      clearTimeout(kill);
      clearInterval(repeat);
      resolve(code());
    });
    child.kill('SIGTERM');
  });
}

export function signalNumber(sig: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number>)[sig] ?? 0;
}

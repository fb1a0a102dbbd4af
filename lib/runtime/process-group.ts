// The node's command runs as the leader of its own process group, so that a stop reaches every
// process the command started (a start script's `erl`, the BEAM behind it), not just the direct
// child, and so that a helper killed with SIGKILL leaves none of them behind (issue 28).
//
// Why a process group and not a cgroup: a process group needs no privilege and no delegated
// cgroup tree, works the same on cgroup v1, hybrid and v2 hosts and in containers, and is what a
// terminal or an init system signals too. Its limit: a process that leaves the group (`setsid`,
// `setpgid`, `erl -detached`, a daemonizing script) is out of reach (docs/limits.md).
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { signalNumber, spawnTied } from './child';

/** One line of /proc/<pid>/stat: the fields the group needs. */
export interface ProcStat {
  readonly pid: number;
  /** One letter: R, S, D, Z (zombie), T, … */
  readonly state: string;
  readonly pgrp: number;
}

/** Parses /proc/<pid>/stat (the command name may hold spaces and parentheses: split at the last ')'). */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const open = text.indexOf(' (');
  if (close < 0 || open < 0) return undefined;
  const pid = Number(text.slice(0, open));
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const pgrp = Number(rest[2]);
  if (!Number.isInteger(pid) || !state || !Number.isInteger(pgrp)) return undefined;
  return { pid, state, pgrp };
}

/** The live (not zombie) members of a set of processes that belong to group `pgid`. */
export function liveMembers(stats: Iterable<ProcStat | undefined>, pgid: number): number[] {
  const out: number[] = [];
  for (const s of stats) if (s && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') out.push(s.pid);
  return out.sort((a, b) => a - b);
}

/**
 * The live processes of group `pgid`. On Linux from /proc, leaving zombies out: an orphaned
 * grandchild is reaped by pid 1, and a pid 1 that does not reap (some containers) would keep a
 * dead BEAM "in" the group forever. Elsewhere, kill(-pgid, 0) (zombies count there).
 */
export function groupMembers(pgid: number): number[] {
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return groupSignal(pgid, 0) ? [pgid] : [];
  }
  const stats = function* () {
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      try {
        yield parseStat(fs.readFileSync(`/proc/${n}/stat`, 'utf8'));
      } catch {
        // exited meanwhile
      }
    }
  };
  return liveMembers(stats(), pgid);
}

/** Sends a signal to every process of group `pgid`; false when the group has no process left. */
export function groupSignal(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Spawns the command as the leader of a new process group (and session: `detached` is setsid(2);
 * Node offers no bare setpgid). Its pgid is its pid. The direct child keeps its parent-death
 * signal (`setpriv --pdeathsig KILL` execs the command in place, after the setsid).
 */
export function spawnGroup(argv: string[], options: SpawnOptions): ChildProcess {
  return spawnTied(argv, { ...options, detached: true });
}

/**
 * Stops the whole group: SIGTERM to the group, repeated every `repeatMs` (the BEAM drops a SIGTERM
 * of its first ~100 ms), then SIGKILL to the group once `graceMs` ran out. Resolves when the
 * direct child exited and no live process is left in the group, with the direct child's exit
 * code (128+signal when killed): a shell that `exec`s the BEAM is the BEAM; a shell that waits
 * on it dies of the SIGTERM (143) like the BEAM's siblings.
 */
export function stopGroup(child: ChildProcess, graceMs: number, repeatMs = 500, pollMs = 50): Promise<number> {
  const pgid = child.pid!;
  const code = () => child.exitCode ?? (child.signalCode ? 128 + signalNumber(child.signalCode) : 1);
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return new Promise((resolve) => {
    if (exited() && groupMembers(pgid).length === 0) return resolve(code());
    const timers: NodeJS.Timeout[] = [];
    const done = () => {
      for (const t of timers) clearTimeout(t);
      resolve(code());
    };
    const check = () => {
      if (exited() && groupMembers(pgid).length === 0) done();
    };
    timers.push(setTimeout(() => groupSignal(pgid, 'SIGKILL'), graceMs));
    timers.push(setInterval(() => groupSignal(pgid, 'SIGTERM'), repeatMs));
    timers.push(setInterval(check, pollMs));
    child.once('exit', check);
    groupSignal(pgid, 'SIGTERM');
  });
}

/**
 * Kills the group when the helper dies without disarming it, SIGKILL included: nothing in the
 * helper runs then, so a separate process must. A shell, started after the command in its own
 * session (not tied to the helper, deaf to SIGTERM/SIGINT/SIGHUP), blocks reading a pipe whose
 * only writer is the helper; the kernel closes it when the helper dies, the read returns and the
 * shell sends SIGKILL to the group. A normal stop writes "disarm" first. The direct child also
 * keeps its own parent-death signal, so the window between the spawn of the command and of the
 * watchdog is covered for it.
 */
export class GroupWatchdog {
  public static readonly SCRIPT = 'trap "" HUP INT TERM; if read -r w && [ "$w" = disarm ]; then exit 0; fi; kill -KILL -"$1" 2>/dev/null; exit 0';

  private readonly child: ChildProcess;
  private armed = true;

  constructor(public readonly pgid: number) {
    this.child = spawn('/bin/sh', ['-c', GroupWatchdog.SCRIPT, 'meshx-node-watchdog', String(pgid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.child.on('error', () => undefined);
    this.child.stdin!.on('error', () => undefined);
    // Neither the process nor its pipe keep the helper's event loop alive.
    this.child.unref();
    (this.child.stdin as unknown as { _handle?: { unref?: () => void } })._handle?.unref?.();
  }

  /** The watchdog's pid (tests). */
  public get pid(): number | undefined {
    return this.child.pid;
  }

  /** The group is gone (or the helper stopped it): let the watchdog exit without killing. */
  public disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.child.stdin!.end('disarm\n');
  }
}

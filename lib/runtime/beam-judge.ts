// The node is the BEAM, not the command (issue 28): a start script may export its own
// ERL_INETRC, pass -erl_epmd_port or move the distribution listener, and the helper only sees
// its own command line and environment. Once the BEAM registers, its process (the holder of the
// distribution listener among the command's descendants) is read from /proc and judged against
// what the helper set; a mismatch keeps the node from passing, named with its fix.
import * as fs from 'node:fs';
import { listenersOn, socketTables } from './proc-net';

/** What /proc says of the BEAM that holds the distribution listener. */
export interface BeamFacts {
  readonly pid: number;
  /** The addresses it listens on at the distribution port. */
  readonly listening: string[];
  readonly env: Record<string, string>;
  readonly argv: string[];
}

/** What the helper set for the BEAM. */
export interface BeamWants {
  readonly distPort: number;
  readonly epmdPort: number;
  readonly inetrcPath: string;
}

const read = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

function environOf(pid: number, proc: string): Record<string, string> {
  const pairs = (read(`${proc}/${pid}/environ`) ?? '').split('\0').filter((kv) => kv.includes('='));
  return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/** `root` and every process descended from it (ppid links in /proc/<pid>/stat). */
export function descendants(root: number, proc = '/proc'): number[] {
  const children = new Map<number, number[]>();
  for (const n of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(n)) continue;
    const stat = read(`${proc}/${n}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(n)]);
  }
  const out: number[] = [];
  for (let queue = [root]; queue.length; ) {
    const pid = queue.shift()!;
    out.push(pid);
    queue = [...queue, ...(children.get(pid) ?? [])];
  }
  return out;
}

/**
 * The BEAM among `root`'s descendants: the process holding a listener on the distribution port.
 * The command itself first: `erl` execs the BEAM in its own process, so the other processes of
 * the host are read only for a command that runs it as a child (a start script).
 */
export function findBeam(root: number, distPort: number, proc = '/proc'): BeamFacts | undefined {
  const inodes = new Map(socketTables(proc).flatMap((t) => [...listenersOn(t, distPort)]));
  if (inodes.size === 0) return undefined;
  const own = holding(root, inodes, proc);
  if (own) return own;
  for (const pid of descendants(root, proc).slice(1)) {
    const facts = holding(pid, inodes, proc);
    if (facts) return facts;
  }
  return undefined;
}

/** What /proc says of `pid` if it holds one of the listeners (inode -> address). */
function holding(pid: number, inodes: Map<string, string>, proc: string): BeamFacts | undefined {
  let fds: string[];
  try {
    fds = fs.readdirSync(`${proc}/${pid}/fd`);
  } catch {
    return undefined;
  }
  const held = new Set<string>();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`${proc}/${pid}/fd/${fd}`));
      if (m && inodes.has(m[1])) held.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  if (held.size === 0) return undefined;
  const argv = (read(`${proc}/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
  return { pid, listening: [...held].map((i) => inodes.get(i)!), env: environOf(pid, proc), argv };
}

/** The BEAMs (`beam.smp`, `beam`) among `root`'s descendants, for a node that never registered. */
export function beamProcesses(root: number, proc = '/proc'): BeamFacts[] {
  return descendants(root, proc)
    .filter((pid) => /^beam/.test((read(`${proc}/${pid}/comm`) ?? '').trim()))
    .map((pid) => ({ pid, listening: [], env: environOf(pid, proc), argv: (read(`${proc}/${pid}/cmdline`) ?? '').split('\0').filter(Boolean) }));
}

/** What differs between the BEAM and what the helper set, each with its fix; empty when nothing does. */
export function judgeBeam(b: BeamFacts, want: BeamWants): string[] {
  const problems: string[] = [];
  for (const a of b.listening.filter((x) => x !== '127.0.0.1')) {
    problems.push(`the BEAM (pid ${b.pid}) listens for distribution on ${a}:${want.distPort}, not 127.0.0.1 only: its command or start script `
      + 'sets -kernel inet_dist_use_interface or replaces ERL_AFLAGS; remove that');
  }
  const inetrc = b.env.ERL_INETRC;
  if (inetrc === undefined) {
    problems.push(`the BEAM (pid ${b.pid}) runs without ERL_INETRC (its start script unsets it), so peer hosts do not resolve; `
      + `leave ERL_INETRC=${want.inetrcPath} in its environment`);
  } else if (inetrc !== want.inetrcPath && read(inetrc) !== read(want.inetrcPath)) {
    problems.push(`the start script sets ERL_INETRC=${inetrc}; link it to ${want.inetrcPath} (ln -sf ${want.inetrcPath} ${inetrc}) `
      + 'or leave ERL_INETRC as the helper sets it');
  }
  const i = b.argv.indexOf('-erl_epmd_port');
  if (i >= 0) problems.push(`the BEAM (pid ${b.pid}) runs with -erl_epmd_port ${b.argv[i + 1] ?? ''}, so it looks peers up without EPMD; remove it`);
  const epmd = b.env.ERL_EPMD_PORT ?? '4369';
  if (epmd !== String(want.epmdPort)) {
    const unset = 'runs without ERL_EPMD_PORT (its start script unsets it: port 4369)';
    const has = b.env.ERL_EPMD_PORT === undefined ? unset : `has ERL_EPMD_PORT=${epmd}`;
    problems.push(`the BEAM (pid ${b.pid}) ${has}, not the helper's ${want.epmdPort}; leave it as the helper sets it`);
  }
  return problems;
}

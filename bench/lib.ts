// Shared benchmark helpers: sections and goals, tables, progress, real epmd, process CPU/RSS.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { probeFreePort } from '../lib/runtime/ports';
import { atLeast, atMost, Estimate, Verdict } from './stats';

export { median, quantile } from './stats';

export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** "1.23 [1.10, 1.40]": an estimate with its 95% interval. */
export const fmtCi = (e: Estimate, digits = 2, unit = ''): string => `${fmt(e.value, digits)}${unit} [${fmt(e.lo, digits)}, ${fmt(e.hi, digits)}]`;

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export interface Goal {
  readonly goal: string;
  /** The estimate and its interval, as printed. */
  readonly value: string;
  readonly verdict: Verdict;
}

/** A goal "estimate <= limit" judged on the whole 95% interval. */
export function goalAtMost(goal: string, e: Estimate, limit: number, digits = 2, unit = ''): Goal {
  return { goal, value: fmtCi(e, digits, unit), verdict: atMost(e, limit) };
}

/** A goal "estimate >= limit" judged on the whole 95% interval. */
export function goalAtLeast(goal: string, e: Estimate, limit: number, digits = 2, unit = ''): Goal {
  return { goal, value: fmtCi(e, digits, unit), verdict: atLeast(e, limit) };
}

export interface Section {
  readonly title: string;
  readonly markdown: string;
  readonly goals: Goal[];
  /** Raw samples by series name (kept in bench/samples/<section>.json). */
  readonly samples: unknown;
  /** Facts of this run to show in the results header (versions, TLS parameters). */
  readonly facts?: Record<string, string>;
}

/** Progress of one section: "<section> 3/10, ~40 s left in it". */
export class Progress {
  private done = 0;
  private readonly t0 = Date.now();
  constructor(private readonly section: string, private readonly total: number) {}

  public tick(what: string): void {
    this.done++;
    const per = (Date.now() - this.t0) / this.done;
    const left = Math.round((per * (this.total - this.done)) / 1000);
    log(`${this.section} ${this.done}/${this.total} ${what}${this.done < this.total ? `, ~${left} s left in this section` : ''}`);
  }
}

/** Fisher-Yates: the order of the variants inside one round, so neither always runs first. */
export function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** The real epmd daemon from erlang-base, on its own port. */
export async function startRealEpmd(): Promise<{ port: number; proc: ChildProcess; stop: () => void }> {
  const port = await probeFreePort('127.0.0.1');
  const proc = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  if (proc.exitCode !== null) throw new Error('epmd did not start');
  return { port, proc, stop: () => proc.kill('SIGKILL') };
}

/** CPU time (user + system) a process has used, in µs, from /proc (USER_HZ = 100). */
export function cpuMicros(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10000;
}

/**
 * On-CPU time of all of a process's live threads in ns, from /proc/<pid>/task/<tid>/schedstat:
 * nanosecond resolution, where /proc/<pid>/stat counts 10 ms ticks (too coarse for idle CPU).
 */
export function cpuNanos(pid: number): number {
  let sum = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return sum;
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The BEAM's OS pid under an `erl` start script (erl execs, so usually the same pid). */
export function beamPid(pid: number): number {
  const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm.startsWith('beam')) return pid;
  const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const k of kids) {
    const found = beamPid(k);
    if (found) return found;
  }
  return 0;
}

export const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

/** Rounds of a section; MESHX_BENCH_QUICK=1 cuts them to 2 for a smoke run of the bench code itself. */
export const rounds = (n: number): number => (process.env.MESHX_BENCH_QUICK ? Math.min(n, 2) : n);

// Shared benchmark helpers: statistics, tables, real epmd.
import { ChildProcess, spawn } from 'node:child_process';
import { probeFreePort } from '../lib/runtime/ports';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const quantile = (xs: ArrayLike<number>, q: number): number => {
  const s = Array.from(xs).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

export interface Section {
  readonly title: string;
  readonly markdown: string;
  /** Goals met (true) or missed (false), with what they say. */
  readonly goals: Array<{ goal: string; met: boolean; value: string }>;
}

/** The real epmd daemon from erlang-base, on its own port. */
export async function startRealEpmd(): Promise<{ port: number; proc: ChildProcess; stop: () => void }> {
  const port = await probeFreePort('127.0.0.1');
  const proc = spawn('epmd', ['-port', String(port), '-address', '127.0.0.1'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  if (proc.exitCode !== null) throw new Error('epmd did not start');
  return { port, proc, stop: () => proc.kill('SIGKILL') };
}

export const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

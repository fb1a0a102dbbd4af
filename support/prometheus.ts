// A real Prometheus (Debian's package, scripts/setup.sh) for the metrics test: started on
// loopback with a scrape config written here, its data in a temp dir, queried through its own
// HTTP API. The package's service is never used.
import { ChildProcess, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawnTied, stopChild } from '../lib/runtime/child';
import { probeFreePort } from '../lib/runtime/ports';
import { waitFor } from './wait';

/** One sample of an instant query: its labels and value. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

function get(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
    req.on('error', reject);
  });
}

export class Prometheus {
  /** Starts Prometheus scraping `targets` (host:port) every `intervalS` seconds, in `dir` (made by the caller, removed by it). */
  public static async start(dir: string, targets: string[], intervalS = 1): Promise<Prometheus> {
    if (spawnSync('prometheus', ['--version']).status !== 0) throw new Error("prometheus not found on PATH: run 'bash scripts/setup.sh' first");
    const port = await probeFreePort('127.0.0.1');
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, [
      'global:',
      `  scrape_interval: ${intervalS}s`,
      `  scrape_timeout: ${intervalS}s`,
      'scrape_configs:',
      '  - job_name: meshx-node',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'));
    const logFile = path.join(dir, 'prometheus.log');
    const out = fs.openSync(logFile, 'a');
    const child = spawnTied([
      'prometheus', `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const p = new Prometheus(child, `http://127.0.0.1:${port}`, logFile);
    try {
      await waitFor(async () => (await get(`${p.url}/-/ready`)).status === 200, {
        timeoutMs: 30000,
        intervalMs: 200,
        retryErrors: true,
        failed: () => (child.exitCode === null ? undefined : `prometheus exited with ${child.exitCode}; see ${logFile}`),
        message: `prometheus not ready within 30 s; see ${logFile}`,
      });
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  private constructor(private readonly child: ChildProcess, public readonly url: string, public readonly logFile: string) {}

  /** An instant query through /api/v1/query: its samples. */
  public async query(expr: string): Promise<Sample[]> {
    const r = await get(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    type Answer = { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    const body = JSON.parse(r.text) as Answer;
    if (body.status !== 'success') throw new Error(`prometheus query ${expr}: ${body.error ?? r.text.slice(0, 300)}`);
    return body.data!.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
  }

  /** The single value of `expr` once `done` holds for it, polled within `timeoutMs`; throws with the last value otherwise. */
  public async valueWhen(expr: string, done: (v: number) => boolean, timeoutMs = 30000): Promise<number> {
    let last: number | undefined;
    return waitFor(
      async () => {
        const s = await this.query(expr);
        last = s.length === 1 ? s[0].value : undefined;
        return last !== undefined && done(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 500, message: () => `prometheus: ${expr} is ${last ?? 'absent'} after ${timeoutMs} ms` },
    );
  }

  public async stop(): Promise<void> {
    await stopChild(this.child, 5000);
  }
}

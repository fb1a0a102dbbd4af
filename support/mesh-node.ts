// One BEAM node booted through the real `meshx-node run` (compiled bin), driven from a test
// through its stdin: each line is evaluated and answered as `@@<id> <term>`.
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnTied } from '../lib/runtime/child';
import { processAlive } from '../lib/runtime/instance';
import { poll } from './wait';

let stateDirs = 0;

export const ROOT = path.resolve(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'meshx-node');

export const ERL_REPL =
  'L = fun Loop() -> case io:get_line("") of eof -> halt(0); {error,_} -> halt(0); Line -> [Id, Expr] = string:split(string:trim(Line), ":"), R = ' +
    'try {ok,Ts,_} = erl_scan:string(Expr), {ok,Es} = erl_parse:parse_exprs(Ts), {value,V,_} = erl_eval:exprs(Es, []), V catch C:E -> {C,E} end, ' +
    'io:format("~n@@~s ~0p~n", [Id, R]), Loop() end end, L().';

export interface MeshNodeOptions {
  /** cdktf output dir (or cdk.tf.json) holding the node's manifest (else `kv` or `manifestFile`). */
  readonly from?: string;
  /** Consul KV key of the manifest. */
  readonly kv?: string;
  /** A manifest file. */
  readonly manifestFile?: string;
  readonly node: string;
  readonly consulAddr: string;
  readonly cookie: string;
  /** erl (default) or iex. */
  readonly shell?: 'erl' | 'iex';
  readonly tokenFile?: string;
  readonly stateDir?: string;
  readonly extraRunArgs?: string[];
  readonly env?: Record<string, string>;
  /** Run this command instead of an erl/iex REPL (e.g. a release script); eval() is then unavailable. */
  readonly command?: string[];
  /** Extra BEAM arguments (erl only), e.g. `-pa <dir>`. */
  readonly beamArgs?: string[];
  /** Argument prefix the helper runs under, e.g. `ip netns exec <ns>` (a host of support/cluster). */
  readonly wrap?: string[];
  /** Wait for this much of the boot. @default 'healthy' */
  readonly waitFor?: 'healthy' | 'nothing';
}

export function assertBuilt(): void {
  // What BIN runs (scripts/bundle.js); the test run also refuses a stale one (test/bundle-fresh.js).
  if (!fs.existsSync(path.join(ROOT, 'lib', 'cli', 'meshx-node.bundle.js')))
    throw new Error('the helper is not built (lib/cli/meshx-node.bundle.js): run `npm run build` first');
}

export class MeshNode {
  public static async start(o: MeshNodeOptions): Promise<MeshNode> {
    assertBuilt();
    const shell = o.shell ?? 'erl';
    const beam = shell === 'erl'
      ? ['erl', '-name', o.node, '-setcookie', o.cookie, '-noshell', ...(o.beamArgs ?? []), '-eval', ERL_REPL]
      : ['iex', '--name', o.node, '--cookie', o.cookie];
    const source = o.from ? ['--from', o.from, '--node', o.node] : o.kv ? ['--kv', o.kv] : ['--manifest', o.manifestFile!];
    const args = [BIN, 'run', ...source, '--consul-addr', o.consulAddr, '--consul-timeout', '20', '--ready-timeout', '30', '--stop-timeout', '10'];
    if (o.tokenFile) args.push('--token-file', o.tokenFile);
    // Its own state dir, not the shared default /run/meshx-node/<service>: test runs (and other
    // suites on the same machine) must not meet the one-instance-per-node lock of another run.
    args.push('--state-dir', o.stateDir ?? path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), `meshx-state-${process.pid}-${++stateDirs}`));
    args.push(...(o.extraRunArgs ?? []), '--', ...(o.command ?? beam));
    const env = { ...process.env, ...(o.env ?? {}) };
    delete env.CONSUL_HTTP_TOKEN;
    // Tied to this process: if the test runner dies, the helper (and through it the BEAM and
    // the proxy) die too.
    const child = spawnTied([...(o.wrap ?? []), process.execPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const node = new MeshNode(child, o.node, shell);
    if ((o.waitFor ?? 'healthy') === 'healthy') {
      try {
        await node.waitForLog(/\[helper\] health passing/, 60000);
      } catch (e) {
        await node.stop('SIGTERM');
        throw e;
      }
    }
    return node;
  }

  /**
   * A plain `erl` node driven the same way, without the helper: the baselines of the benchmarks
   * (real epmd, inet_tcp_dist or inet_tls_dist).
   */
  public static plain(name: string, erlArgs: string[], env: NodeJS.ProcessEnv, wrap: string[] = []): MeshNode {
    const child = spawnTied([...wrap, 'erl', ...erlArgs, '-noshell', '-eval', ERL_REPL], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new MeshNode(child, name, 'erl');
  }

  public output = '';
  public readonly exited: Promise<number>;
  private seq = 0;
  private readonly waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];

  private constructor(public readonly child: ChildProcess, public readonly name: string, private readonly shell: 'erl' | 'iex') {
    const onData = (d: Buffer) => {
      this.output += d.toString();
      for (const w of [...this.waiters]) {
        const m = this.output.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
  }

  public get helperPid(): number {
    return this.child.pid!;
  }

  /** Pid the helper logged for its proxy (the latest one) or BEAM. */
  public pidOf(what: 'proxy' | 'beam'): number | undefined {
    const re = what === 'proxy' ? /proxy (?:ready \(\w+, pid|back \(pid) (\d+)\)/g : /started \S+ \(pid (\d+)\)/g;
    const all = [...this.output.matchAll(re)];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  }

  public waitForLog(re: RegExp, timeoutMs = 30000): Promise<RegExpMatchArray> {
    const m = this.output.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (x: RegExpMatchArray) => { clearTimeout(t); resolve(x); } };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`));
      }, timeoutMs);
      this.waiters.push(w);
      void this.exited.then(() =>
        setTimeout(() => {
          if (this.waiters.includes(w)) {
            clearTimeout(t);
            this.waiters.splice(this.waiters.indexOf(w), 1);
            reject(new Error(`${this.name}: exited before ${re}; output:\n${this.output.slice(-3000)}`));
          }
        }, 200),
      );
    });
  }

  /** Evaluates an expression in the node (Erlang for erl, Elixir for iex); returns the printed term. */
  public async eval(expr: string, timeoutMs = 30000): Promise<string> {
    const id = `e${++this.seq}`;
    const line = this.shell === 'erl' ? `${id}:${expr.replace(/\.\s*$/, '')}.\n` : `IO.puts("@@${id} " <> inspect(${expr}))\n`;
    const wait = this.waitForLog(new RegExp(`@@${id} (.*)\\n`), timeoutMs);
    this.child.stdin!.write(line);
    return (await wait)[1].trim();
  }

  /**
   * Pings until the answer is `want` or the deadline passes; returns the last answer. Each try
   * starts a new connection (an open one outlives an intention change). For changes that reach
   * the proxies asynchronously: an intention written to the agent, a deploy.
   */
  public async pingUntil(node: string, want: 'pong' | 'pang', deadlineMs = 15000): Promise<string> {
    const tryOnce = async (): Promise<string> => {
      if (this.shell === 'erl') await this.eval(`erlang:disconnect_node(list_to_atom("${node}"))`);
      else await this.eval(`Node.disconnect(:"${node}")`);
      return this.ping(node);
    };
    return (await poll(tryOnce, (got) => got === want, { timeoutMs: deadlineMs, intervalMs: 200 })).value!;
  }

  /** net_adm:ping / Node.ping, as 'pong' or 'pang'. */
  public async ping(node: string): Promise<string> {
    const r = await this.eval(this.shell === 'erl' ? `net_adm:ping(list_to_atom("${node}"))` : `Node.ping(:"${node}")`);
    return r.replace(/^:/, '');
  }

  /** Sends a signal to the helper and waits for it to exit. */
  public async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** True while a process with this pid exists and is not a zombie (any process: proxy, BEAM). */
export function isAlive(pid: number | undefined): boolean {
  return pid !== undefined && pid > 0 && processAlive(pid);
}

/** Waits until none of the pids is alive. */
export async function waitGone(pids: Array<number | undefined>, timeoutMs = 10000): Promise<boolean> {
  return (await poll(() => !pids.some(isAlive), (gone) => gone, { timeoutMs })).met;
}

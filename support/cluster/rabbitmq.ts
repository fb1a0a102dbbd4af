// An unmodified RabbitMQ node (Debian's rabbitmq-server, scripts/setup.sh) under `meshx-node run`
// on a host of support/cluster, configured only through RabbitMQ's own environment variables and
// files in a temp dir of its own (mnesia, logs, config, the cookie), and its stock CLI run with
// the environment `meshx-node env` prints. Stopped through its helper (SIGTERM), its dir removed by remove().
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, MeshNode, ROOT } from '../mesh-node';
import { Cluster, ClusterHost } from './cluster';
import { DeployedNode } from './mesh';
import { inNs } from './netns';

/** Where Debian's package puts the real scripts (/usr/sbin's wrappers switch to the rabbitmq user). */
export const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

export interface RabbitNodeOptions {
  readonly cluster: Cluster;
  readonly host: ClusterHost;
  readonly deployed: DeployedNode;
  /** The manifest's distPort: RabbitMQ sets its listen port itself, from RABBITMQ_DIST_PORT. */
  readonly distPort: number;
  /** AMQP port, on 127.0.0.1 of the host. */
  readonly amqpPort: number;
  readonly cookie: string;
  /** @default 'autoheal' */
  readonly partitionHandling?: 'autoheal' | 'ignore' | 'pause_minority';
  /** Parent of the node's own temp dir. */
  readonly workDir: string;
}

export function rabbitmqInstalled(): boolean {
  return fs.existsSync(path.join(RABBITMQ_BIN, 'rabbitmq-server'));
}

export class RabbitNode {
  /** Writes the node's files and boots it under `meshx-node run`; resolves when the helper reports health passing. */
  public static async start(o: RabbitNodeOptions): Promise<RabbitNode> {
    const dir = fs.mkdtempSync(path.join(o.workDir, `rmq-${o.deployed.node.replace(/[^a-z0-9]/gi, '-')}-`));
    const r = new RabbitNode(o, dir);
    r.writeFiles();
    r.mesh = await o.cluster.bootNode(o.host, {
      kv: o.deployed.kv,
      node: o.deployed.node,
      tokenFile: o.deployed.tokenFile,
      cookie: '', // unused: the command is RabbitMQ's, which reads the cookie file under HOME
      stateDir: path.join(dir, 'state'),
      command: [path.join(RABBITMQ_BIN, 'rabbitmq-server')],
      env: r.serverEnv(),
      extraRunArgs: ['--ready-timeout', '60'],
      waitFor: 'nothing',
    });
    try {
      await r.mesh.waitForLog(/\[helper\] health passing/, 90_000);
    } catch (e) {
      await r.stop();
      // RabbitMQ says why it failed at the top of its output (BOOT FAILED …), not in the tail.
      const said = r.mesh.output
        .split('\n')
        .filter((l) => !l.includes('[proxy]'))
        .slice(0, 60)
        .join('\n');
      throw new Error(`${(e as Error).message.split('\n')[0]}\n${said}`);
    }
    return r;
  }

  public mesh!: MeshNode;
  public readonly longNames: boolean;

  private constructor(private readonly o: RabbitNodeOptions, public readonly dir: string) {
    this.longNames = o.deployed.node.split('@')[1].includes('.');
  }

  public get name(): string {
    return this.o.deployed.node;
  }

  public get host(): ClusterHost {
    return this.o.host;
  }

  public get amqpPort(): number {
    return this.o.amqpPort;
  }

  /** RabbitMQ's own variables, shared by the server and its CLI. */
  private rabbitVars(): Record<string, string> {
    return {
      HOME: path.join(this.dir, 'home'),
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_USE_LONGNAME: String(this.longNames),
      RABBITMQ_CONF_ENV_FILE: path.join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
      // A crash dump (when a boot fails) stays in the node's dir, not in the caller's cwd.
      ERL_CRASH_DUMP: path.join(this.dir, 'erl_crash.dump'),
    };
  }

  private serverEnv(): Record<string, string> {
    return {
      ...this.rabbitVars(),
      RABBITMQ_DIST_PORT: String(this.o.distPort),
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.o.amqpPort),
    };
  }

  private writeFiles(): void {
    const home = path.join(this.dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    // The cookie only in this file (0600): never on a command line, in the environment or a log.
    fs.writeFileSync(path.join(home, '.erlang.cookie'), this.o.cookie, {
      mode: 0o600,
    });
    fs.writeFileSync(path.join(this.dir, 'rabbitmq-env.conf'), '');
    fs.writeFileSync(path.join(this.dir, 'enabled_plugins'), '[].\n');
    fs.writeFileSync(
      path.join(this.dir, 'rabbitmq.conf'),
      [`cluster_partition_handling = ${this.o.partitionHandling ?? 'autoheal'}`, `listeners.tcp.default = 127.0.0.1:${this.o.amqpPort}`, ''].join(
        '\n',
      ),
    );
  }

  /** What `meshx-node env --format json` prints for this node's state dir. */
  public meshxEnv(): Record<string, string> {
    return JSON.parse(
      execFileSync(process.execPath, [BIN, 'env', '--format', 'json', '--state-dir', path.join(this.dir, 'state')], { encoding: 'utf8' }),
    );
  }

  /**
   * Runs the stock rabbitmqctl inside the node's host as an operator would: `-n <node>` (and
   * `--longnames`), with only PATH, a UTF-8 locale, HOME (the cookie file) and what `meshx-node
   * env` prints; bounded. Without RABBITMQ_NODENAME the CLI completes a host-less long name of its
   * own, which reloads the resolver unless the inetrc names a domain (issue 25, point 1).
   * Resolves with its output and exit code (non-zero does not throw).
   */
  public ctl(args: string[], timeoutMs = 60_000): Promise<{ code: number; out: string }> {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: path.join(this.dir, 'home'), ...this.meshxEnv() };
    args = ['-n', this.name, ...(this.longNames ? ['--longnames'] : []), ...args];
    const argv = [...inNs(this.o.host.link.ns), path.join(RABBITMQ_BIN, 'rabbitmqctl'), ...args];
    return new Promise((resolve) => {
      execFile(argv[0], argv.slice(1), { env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 124) : 0;
        resolve({ code, out: stdout + stderr });
      });
    });
  }

  /** rabbitmqctl that must succeed: its output, or an error with it. */
  public async ctlOk(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.ctl(args, timeoutMs);
    if (r.code !== 0) throw new Error(`rabbitmqctl ${args.join(' ')} on ${this.name}: exit ${r.code}\n${r.out}`);
    return r.out;
  }

  /** `cluster_status` as RabbitMQ reports it (JSON formatter); undefined when the CLI failed. */
  public async clusterStatus(): Promise<ClusterStatus | undefined> {
    // Bounded twice: RabbitMQ's own timeout, and the process's (a node restarting its app may not answer).
    const r = await this.ctl(['cluster_status', '--formatter', 'json', '--timeout', '10'], 20_000);
    if (r.code !== 0) return undefined;
    const json = r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1);
    const s = JSON.parse(json);
    return {
      running: [...(s.running_nodes ?? [])].sort(),
      disk: [...(s.disk_nodes ?? [])].sort(),
      partitions: s.partitions ?? {},
    };
  }

  /** The log files RabbitMQ wrote (for secret checks). */
  public logs(): string {
    const dir = path.join(this.dir, 'log');
    return fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
          .join('\n')
      : '';
  }

  /** Stops the node through its helper (SIGTERM); the helper's exit code. */
  public async stop(): Promise<number> {
    return this.mesh ? this.mesh.stop('SIGTERM') : 0;
  }

  /** Removes the node's dir (after stop). */
  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface ClusterStatus {
  readonly running: string[];
  readonly disk: string[];
  /** Node -> nodes it reports a partition with. */
  readonly partitions: Record<string, string[]>;
}

/** Pids of processes whose command line or environment mentions `marker` (e.g. a node's dir). */
export function processesMentioning(marker: string): number[] {
  const found: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    if (Number(p) === process.pid) continue;
    try {
      const text = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1') + fs.readFileSync(`/proc/${p}/environ`, 'latin1');
      if (text.includes(marker)) found.push(Number(p));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const AMQP = `
const amqp = require(process.argv[1]);
const [mode, port, queue, arg] = process.argv.slice(2);
(async () => {
  const conn = await amqp.connect({ hostname: '127.0.0.1', port: Number(port), username: 'guest', password: 'guest', heartbeat: 0 });
  try {
    if (mode === 'publish') {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      for (const m of JSON.parse(arg)) ch.sendToQueue(queue, Buffer.from(m), { persistent: true });
      await ch.waitForConfirms();
      const q = await ch.checkQueue(queue);
      console.log(JSON.stringify({ published: JSON.parse(arg).length, ready: q.messageCount }));
    } else {
      const ch = await conn.createChannel();
      const got = [];
      const deadline = Date.now() + 10000;
      while (got.length < Number(arg) && Date.now() < deadline) {
        const m = await ch.get(queue, { noAck: false });
        if (!m) { await new Promise((r) => setTimeout(r, 100)); continue; }
        got.push(m.content.toString());
        ch.ack(m);
      }
      await ch.close();
      console.log(JSON.stringify({ got }));
    }
  } finally {
    await conn.close();
  }
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });`;

/** Publishes messages to a quorum queue through the node's AMQP port (from inside its host), with publisher confirms. */
export function amqpPublish(cluster: Cluster, n: RabbitNode, queue: string, messages: string[]): { published: number; ready: number } {
  return JSON.parse(
    cluster.exec(n.host, [process.execPath, '-e', AMQP, amqplibPath(), 'publish', String(n.amqpPort), queue, JSON.stringify(messages)]),
  );
}

/** Takes (and acks) up to `count` messages from a queue through the node's AMQP port; bounded (10 s). */
export function amqpConsume(cluster: Cluster, n: RabbitNode, queue: string, count: number): string[] {
  return JSON.parse(cluster.exec(n.host, [process.execPath, '-e', AMQP, amqplibPath(), 'consume', String(n.amqpPort), queue, String(count)])).got;
}

function amqplibPath(): string {
  return path.join(ROOT, 'node_modules', 'amqplib');
}

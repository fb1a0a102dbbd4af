// A throwaway Consul dev agent on free loopback ports, for integration tests, the demo and
// the benchmarks. Real binary, real Connect CA; stopped (and its data gone) when done.
import { ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnTied, stopChild, which } from '../lib/runtime/child';
import { ConsulAgent } from '../lib/runtime/consul/agent';
import { probeFreePort } from '../lib/runtime/ports';
import { waitFor } from './wait';

export interface DevAgentOptions {
  /** Enable ACLs, default deny, with this bootstrap (master) token. */
  readonly aclMasterToken?: string;
  readonly consulBin?: string;
  /** Reuse these ports (to restart an agent in place). */
  readonly ports?: DevAgentPorts;
  /** Where agent output goes. @default a log file in the temp dir */
  readonly logFile?: string;
  /** @default "dc1" */
  readonly datacenter?: string;
}

export interface DevAgentPorts {
  readonly http: number;
  readonly serfLan: number;
  readonly serfWan: number;
  readonly server: number;
}

const minors = new Map<string, number>();

/** The minor version of a Consul 1.x binary (`consul version` prints "Consul v1.14.10"). */
export function consulMinor(consul: string): number {
  if (!minors.has(consul)) {
    const out = execFileSync(consul, ['version'], { encoding: 'utf8' });
    const m = /Consul v1\.(\d+)\./.exec(out);
    if (!m) throw new Error(`cannot read the version of ${consul}: ${out.split('\n')[0]}`);
    minors.set(consul, Number(m[1]));
  }
  return minors.get(consul)!;
}

export class DevAgent {
  public static async start(o: DevAgentOptions = {}): Promise<DevAgent> {
    const consul = o.consulBin ?? 'consul';
    if (!which(consul)) throw new Error(`consul not found on PATH: run 'bash scripts/setup.sh' first`);
    const ports = o.ports ?? {
      http: await probeFreePort('127.0.0.1'),
      serfLan: await probeFreePort('127.0.0.1'),
      serfWan: await probeFreePort('127.0.0.1'),
      server: await probeFreePort('127.0.0.1'),
    };
    const args = [
      consul, 'agent', '-dev', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-node', `meshx-test-${ports.http}`, '-http-port',
      String(ports.http), '-dns-port', '-1', '-grpc-port', '-1', '-serf-lan-port', String(ports.serfLan), '-serf-wan-port',
      String(ports.serfWan), '-server-port', String(ports.server),
    ];
    if (o.datacenter) args.push('-datacenter', o.datacenter);
    // Consul 1.14 dev agents also open a gRPC TLS port (8503): off, so agents can run side by side.
    if (consulMinor(consul) >= 14) args.push('-hcl', 'ports { grpc_tls = -1 }');
    if (o.aclMasterToken) {
      // Consul 1.8 spells the bootstrap token `master`; 1.11 renamed it `initial_management`.
      const bootstrap = consulMinor(consul) >= 11 ? 'initial_management' : 'master';
      args.push(
        '-hcl',
        'acl { enabled = true default_policy = "deny" enable_token_persistence = false ' +
          `tokens { ${bootstrap} = "${o.aclMasterToken}" agent = "${o.aclMasterToken}" } }`,
      );
    }
    const logFile = o.logFile ?? path.join(os.tmpdir(), `meshx-consul-${ports.http}.log`);
    const out = fs.openSync(logFile, 'a');
    const child = spawnTied(args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const agent = new DevAgent(child, ports, logFile, o.aclMasterToken);
    try {
      await agent.waitReady(30000);
    } catch (e) {
      await agent.stop();
      throw e;
    }
    return agent;
  }

  public readonly httpAddr: string;
  /** A client with the master token when ACLs are on. */
  public readonly api: ConsulAgent;

  private constructor(
    private readonly child: ChildProcess,
    public readonly ports: DevAgentPorts,
    public readonly logFile: string,
    public readonly masterToken?: string,
  ) {
    this.httpAddr = `http://127.0.0.1:${ports.http}`;
    this.api = new ConsulAgent({ address: this.httpAddr, token: masterToken, timeoutMs: 5000 });
  }

  public get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits for a leader and the Connect CA roots (sidecars cannot serve before). */
  private async waitReady(timeoutMs: number): Promise<void> {
    const ready = async (): Promise<boolean> => {
      const leader = await this.api.request('GET', '/v1/status/leader');
      const roots = await this.api.request('GET', '/v1/connect/ca/roots');
      return leader.status === 200 && leader.text.length > 4 && roots.status === 200 && JSON.parse(roots.text).Roots?.length > 0;
    };
    await waitFor(ready, {
      timeoutMs,
      intervalMs: 200,
      retryErrors: true, // not up yet
      failed: () => (this.child.exitCode !== null ? `consul exited with ${this.child.exitCode}; see ${this.logFile}` : undefined),
      message: `consul dev agent not ready within ${timeoutMs} ms; see ${this.logFile}`,
    });
  }

  public async stop(): Promise<void> {
    await stopChild(this.child, 5000);
  }

  /** Hard kill, as a crash would (for fault tests). */
  public async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await new Promise((r) => (this.child.exitCode !== null || this.child.signalCode !== null ? r(null) : this.child.once('exit', r)));
  }
}

/**
 * Waits until each service has a passing Connect instance in the catalog: what a peer's proxy
 * resolves an upstream with. The agent syncs check updates to the catalog asynchronously, so a
 * node can be passing locally a moment before peers can find it.
 */
export async function waitDiscoverable(api: ConsulAgent, services: string[], timeoutMs = 30000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (const svc of services) {
    const passing = async (): Promise<boolean> => {
      const r = await api.request('GET', `/v1/health/connect/${svc}?passing=1`);
      return r.status === 200 && JSON.parse(r.text).length > 0;
    };
    const message = `${svc} has no passing Connect instance in the catalog after ${timeoutMs} ms`;
    await waitFor(passing, { timeoutMs: Math.max(0, until - Date.now()), message });
  }
}

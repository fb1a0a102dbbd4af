// A production-shaped Consul cluster on one machine, for the cluster tests, the demo and the
// benchmarks: one server and N client agents, each in its own network namespace ("host") on a
// private subnet that exists only inside those namespaces; ACLs with default deny, gossip
// encryption, TLS for RPC and the HTTP API on HTTPS only with verify_incoming. Nodes boot inside
// a host with `meshx-node run`, reaching their host's client agent at https://127.0.0.1:8501.
// Everything is stopped by pid and every namespace deleted by stop(), also after a failure.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { which } from '../../lib/runtime/child';
import { ConsulAgent } from '../../lib/runtime/consul/agent';
import { MeshNode, MeshNodeOptions } from '../mesh-node';
import { toolPaths } from '../terraform';
import { waitFor } from '../wait';
import { AgentProcess } from './agent-process';
import { clientConfig, serverConfig } from './agent-config';
import { HostLink, inNs, NetnsTopology, removeStaleNamespaces } from './netns';
import { createTlsMaterial, TlsMaterialFiles } from './tls-material';
import { TlsTunnel } from './tunnel';

export interface ClusterOptions {
  /** Client hosts (app-1 … app-N) beside the server's. @default 3 */
  readonly hosts?: number;
  /** Consul for the agents and the sidecar proxies. @default the 1.14 built from Go modules (tools.env), else `consul` */
  readonly consulBin?: string;
  /** @default "dc1" */
  readonly datacenter?: string;
}

/** One host: its namespace, address, client agent, and the nodes booted on it. */
export interface ClusterHost {
  readonly name: string;
  readonly link: HostLink;
  readonly agent: AgentProcess;
  readonly nodes: MeshNode[];
}

let clusters = 0;

function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, failed: () => string | undefined): Promise<T> {
  return waitFor(probe, { timeoutMs, intervalMs: 250, failed, retryErrors: true, message: `${what} not within ${timeoutMs} ms` });
}

export class Cluster {
  /** Starts the server and the client hosts; on any failure stops what it started and throws. */
  public static async start(o: ClusterOptions = {}): Promise<Cluster> {
    for (const tool of ['ip', 'setpriv'])
      if (!which(tool, process.env.PATH + ':/usr/sbin:/sbin')) throw new Error(`${tool} not found: run scripts/setup.sh (iproute2, util-linux)`);
    removeStaleNamespaces();
    const consul = o.consulBin ?? toolPaths().consulConfigEntriesBin ?? 'consul';
    const work = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-cluster-'));
    const c = new Cluster(consul, work, o.datacenter ?? 'dc1', new NetnsTopology(`${process.pid}-${++clusters}`));
    try {
      await c.boot(o.hosts ?? 3);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  public readonly hosts: ClusterHost[] = [];
  public server!: ClusterHost;
  public tls!: TlsMaterialFiles;
  /** Management-token client of the server, through the tunnel (the harness's and Terraform's way in). */
  public api!: ConsulAgent;
  private tunnel?: TlsTunnel;
  private readonly bootstrapToken = randomUUID();
  private stopped = false;

  private constructor(
    public readonly consul: string,
    public readonly work: string,
    public readonly datacenter: string,
    private readonly net: NetnsTopology,
  ) {}

  /** Where Terraform and cdktf send requests (plain HTTP on loopback into the tunnel). */
  public get httpAddr(): string {
    return this.tunnel!.httpAddr;
  }

  /** The bootstrap token, for the operator's Terraform only (never given to nodes or logged). */
  public get masterToken(): string {
    return this.bootstrapToken;
  }

  private async boot(hostCount: number): Promise<void> {
    const names = ['srv', ...Array.from({ length: hostCount }, (_, i) => `app-${i + 1}`)];
    const links = this.net.create(names);
    this.tls = createTlsMaterial(this.consul, path.join(this.work, 'tls'), {
      datacenter: this.datacenter,
      serverAddress: links[0].address,
      clients: hostCount,
    });
    const gossipKey = execFileSync(this.consul, ['keygen'], { encoding: 'utf8' }).trim();
    const socketPath = path.join(this.work, 'srv-https.sock');
    this.server = this.host(
      'srv',
      links[0],
      serverConfig({
        ...this.base('srv', links[0], gossipKey),
        pair: this.tls.server,
        agentToken: this.bootstrapToken,
        bootstrapToken: this.bootstrapToken,
        socketPath,
      }),
    );
    this.server.agent.start();
    await until(
      "the server agent's socket",
      30_000,
      async () => (fs.existsSync(socketPath) ? true : undefined),
      () => this.server.agent.failure(),
    );
    this.tunnel = await TlsTunnel.open({
      socketPath,
      ca: this.tls.ca,
      cert: this.tls.cli.cert,
      key: this.tls.cli.key,
      serverName: `server.${this.datacenter}.consul`,
    });
    this.api = new ConsulAgent({ address: this.tunnel.httpAddr, token: this.bootstrapToken, timeoutMs: 5000 });
    await this.waitServerReady();
    for (let i = 1; i < names.length; i++) {
      const token = await this.nodeToken(names[i]);
      const cfg = clientConfig({
        ...this.base(names[i], links[i], gossipKey),
        pair: this.tls.clients[i - 1],
        agentToken: token,
        join: links[0].address,
      });
      const h = this.host(names[i], links[i], cfg);
      this.hosts.push(h);
      h.agent.start();
    }
    await Promise.all(this.hosts.map((h) => this.waitHostHealthy(h)));
  }

  private base(name: string, link: HostLink, gossipKey: string) {
    return {
      nodeName: name,
      datacenter: this.datacenter,
      dataDir: path.join(this.work, name, 'data'),
      bindAddr: link.address,
      gossipKey,
      ca: this.tls.ca,
      agentToken: '',
    };
  }

  private host(name: string, link: HostLink, config: string): ClusterHost {
    const dir = path.join(this.work, name);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'agent.hcl');
    // The config holds tokens and the gossip key: the owner's eyes only.
    fs.writeFileSync(file, config, { mode: 0o600 });
    return { name, link, agent: new AgentProcess(link.ns, this.consul, file, path.join(dir, 'agent.log')), nodes: [] };
  }

  /** A token with a node identity: what a client agent needs for its own node, nothing more. */
  private async nodeToken(node: string): Promise<string> {
    const r = await this.api.request('PUT', '/v1/acl/token', {
      Description: `agent ${node}`,
      NodeIdentities: [{ NodeName: node, Datacenter: this.datacenter }],
    });
    if (r.status !== 200) throw new Error(`cannot create the agent token of ${node}: ${r.status} ${r.text}`);
    return JSON.parse(r.text).SecretID;
  }

  private async waitServerReady(timeoutMs = 60_000): Promise<void> {
    await until(
      'a leader with Connect CA roots',
      timeoutMs,
      async () => {
        const leader = await this.api.request('GET', '/v1/status/leader');
        const roots = await this.api.request('GET', '/v1/connect/ca/roots');
        return leader.status === 200 && leader.text.length > 4 && roots.status === 200 && JSON.parse(roots.text).Roots?.length ? true : undefined;
      },
      () => this.server.agent.failure(),
    );
  }

  /** Waits until the host's agent is a live member with its node in the catalog (serfHealth passing). */
  public async waitHostHealthy(h: ClusterHost, timeoutMs = 60_000): Promise<void> {
    await until(
      `${h.name}'s agent in the catalog, serfHealth passing`,
      timeoutMs,
      async () => {
        const r = await this.api.request('GET', `/v1/health/node/${h.name}`);
        const checks = r.status === 200 ? JSON.parse(r.text) : [];
        return checks.some((c: any) => c.CheckID === 'serfHealth' && c.Status === 'passing') ? true : undefined;
      },
      () => h.agent.failure(),
    );
  }

  /** What a helper on a host needs to reach its agent, as Consul's CLI reads it. */
  public helperEnv(): Record<string, string> {
    return {
      CONSUL_HTTP_ADDR: 'https://127.0.0.1:8501',
      CONSUL_CACERT: this.tls.ca,
      CONSUL_CLIENT_CERT: this.tls.cli.cert,
      CONSUL_CLIENT_KEY: this.tls.cli.key,
    };
  }

  public hostByName(name: string): ClusterHost {
    const h = [this.server, ...this.hosts].find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Boots a node inside a host with `meshx-node run`, its agent over HTTPS, Consul's env vars for TLS. */
  public async bootNode(host: ClusterHost, o: Omit<MeshNodeOptions, 'consulAddr'>): Promise<MeshNode> {
    const stateDir = o.stateDir ?? path.join(this.work, host.name, `state-${o.node.replace(/[^a-z0-9]/gi, '-')}`);
    const n = await MeshNode.start({
      ...o,
      stateDir,
      consulAddr: 'https://127.0.0.1:8501',
      wrap: inNs(host.link.ns),
      env: { ...this.helperEnv(), ...(o.env ?? {}) },
      extraRunArgs: ['--consul-bin', this.consul, ...(o.extraRunArgs ?? [])],
    });
    host.nodes.push(n);
    return n;
  }

  /** Runs a command inside a host's namespace to completion (probes); bounded. */
  public exec(host: ClusterHost, argv: string[], input?: string): string {
    return execFileSync(inNs(host.link.ns)[0], [...inNs(host.link.ns).slice(1), ...argv], { encoding: 'utf8', input, timeout: 30_000 });
  }

  /** Cuts or restores a host's link to the bridge (a network partition of that host). */
  public setLink(host: ClusterHost, up: boolean): void {
    this.net.setLink(host.link, up);
  }

  /** A host lost: its helpers (and through them their BEAMs and proxies) and its agent killed. */
  public async killHost(host: ClusterHost): Promise<void> {
    await Promise.all(host.nodes.splice(0).map((n) => n.stop('SIGKILL')));
    await host.agent.kill();
  }

  /** Kills an agent (a crash) and starts it again with its config and data dir. */
  public async restartAgent(host: ClusterHost): Promise<void> {
    await host.agent.kill();
    host.agent.start();
    if (host === this.server) await this.waitServerReady();
    else await this.waitHostHealthy(host);
  }

  /** Stops every node, agent and tunnel by pid, deletes every namespace and the work dir. */
  public async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.hosts, ...(this.server ? [this.server] : [])];
    await Promise.all(all.flatMap((h) => h.nodes.splice(0).map((n) => n.stop('SIGKILL'))));
    await Promise.all(all.map((h) => h.agent.stop(3000)));
    this.api?.close();
    await this.tunnel?.close();
    try {
      this.net.destroy();
    } finally {
      fs.rmSync(this.work, { recursive: true, force: true });
    }
  }
}

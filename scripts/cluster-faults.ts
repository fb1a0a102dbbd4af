// Measures recovery from faults across hosts on a production-shaped cluster (support/cluster):
// a host's link cut for 20 s (default and short net_ticktime), a whole host lost, a client agent
// restarted, the server restarted. Prints each sample and the medians as a markdown table for
// docs/reliability.md. Usage: npx ts-node --transpile-only --project tsconfig.dev.json
// scripts/cluster-faults.ts [runs=3] [link|agents|host ...] (default: all)
import { Cluster } from '../support/cluster/cluster';
import { bootClusterNodes, DeployedNode, deployClusterMesh } from '../support/cluster/mesh';
import { MeshNode } from '../support/mesh-node';

const COOKIE = 'faults-' + Math.random().toString(36).slice(2);
const CUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const since = (t0: number) => Date.now() - t0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Counts nodedown events seen by a node (a process of its own, monitoring all nodes). */
const WATCH =
  'persistent_term:put(downs, 0), spawn(fun() -> net_kernel:monitor_nodes(true), L = fun Lp() -> receive {nodedown, _} -> ' +
    'persistent_term:put(downs, persistent_term:get(downs) + 1), Lp(); _ -> Lp() end end, L() end), ok';

/** Waits until an rpc to `peer` answers (over the connection there is, or a new one); ms. */
async function rpcBack(a: MeshNode, peer: string, deadlineMs = 120_000): Promise<number> {
  const t0 = Date.now();
  while (since(t0) < deadlineMs) {
    if ((await a.eval(`rpc:call(list_to_atom("${peer}"), erlang, node, [], 2000)`)) === `'${peer}'`) return since(t0);
    await sleep(200);
  }
  throw new Error(`${a.name}: no rpc answer from ${peer} within ${deadlineMs} ms`);
}

/** Waits until a new connection to `peer` pongs; ms. */
async function pongBack(a: MeshNode, peer: string, deadlineMs = 120_000): Promise<number> {
  const t0 = Date.now();
  if ((await a.pingUntil(peer, 'pong', deadlineMs)) !== 'pong') throw new Error(`${a.name}: no pong from ${peer} within ${deadlineMs} ms`);
  return since(t0);
}

class Bench {
  public nodes: MeshNode[] = [];
  public readonly samples: Record<string, number[]> = {};
  constructor(public readonly cluster: Cluster, public readonly deployed: DeployedNode[]) {}

  public record(name: string, ms: number): void {
    (this.samples[name] ??= []).push(ms);
    console.log(`${name}: ${ms} ms`);
  }

  public async boot(beamArgs: string[] = []): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.stop('SIGTERM')));
    for (const h of this.cluster.hosts) h.nodes.splice(0);
    this.nodes = await bootClusterNodes(this.cluster, this.deployed, COOKIE, { beamArgs });
    for (const n of this.nodes) await n.eval(WATCH);
  }

  public async linkCut(tag: string): Promise<void> {
    const [a, b] = this.nodes;
    await pongBack(a, b.name);
    const before = Number(await a.eval('persistent_term:get(downs)'));
    this.cluster.setLink(this.cluster.hosts[1], false);
    await sleep(CUT_MS);
    this.cluster.setLink(this.cluster.hosts[1], true);
    const t0 = Date.now();
    this.record(`${tag}: restore -> rpc answers`, await rpcBack(a, b.name));
    this.record(`${tag}: nodedown events during the cut`, Number(await a.eval('persistent_term:get(downs)')) - before);
    this.record(`${tag}: restore -> new connection pongs`, since(t0) + (await pongBack(a, b.name)));
  }

  public async agentRestart(which: 'client' | 'server'): Promise<void> {
    const [a, b] = this.nodes;
    const host = which === 'server' ? this.cluster.server : this.cluster.hosts[1];
    await pongBack(a, b.name);
    const t0 = Date.now();
    await host.agent.kill();
    host.agent.start();
    this.record(`${which} agent killed and restarted: kill -> new connection pongs`, await pongBack(a, b.name));
    await (which === 'server' ? this.cluster.api.request('GET', '/v1/status/leader') : this.cluster.waitHostHealthy(host));
    this.record(`${which} agent killed and restarted: kill -> agent healthy again`, since(t0));
  }

  /** Host app-3 lost; what the catalog keeps; force-leave; then the host comes back. */
  public async hostLost(): Promise<void> {
    const lost = this.cluster.hosts[2];
    const svc = this.deployed[2].service;
    await this.cluster.killHost(lost);
    this.nodes = this.nodes.filter((n) => !n.name.endsWith('@app-3.cluster.test'));
    await sleep(30_000);
    const kept = JSON.parse((await this.cluster.api.request('GET', `/v1/catalog/service/${svc}`)).text).length;
    this.record('host lost: instances of its service still in the catalog 30 s later', kept);
    const t0 = Date.now();
    const r = await this.cluster.api.request('PUT', '/v1/agent/force-leave/app-3?prune');
    if (r.status !== 200) throw new Error(`force-leave: ${r.status} ${r.text}`);
    while (JSON.parse((await this.cluster.api.request('GET', `/v1/catalog/service/${svc}`)).text).length > 0 && since(t0) < 60_000) await sleep(100);
    this.record('host lost: force-leave -prune -> its services gone from the catalog', since(t0));
    const t1 = Date.now();
    lost.agent.start();
    await this.cluster.waitHostHealthy(lost, 300_000);
    this.record('host lost: agent started again after force-leave -> healthy', since(t1));
  }
}

const SCENARIOS = ['link', 'agents', 'host'] as const;

async function main(runs: number, only: string[]): Promise<void> {
  const want = (s: (typeof SCENARIOS)[number]) => only.length === 0 || only.includes(s);
  const cluster = await Cluster.start({ hosts: 3 });
  try {
    const { nodes } = await deployClusterMesh(cluster, { mesh: 'rel', nodes: [1, 2, 3].map((host) => ({ alive: 'app', host })) });
    const b = new Bench(cluster, nodes);
    if (want('link')) {
      for (const [tag, args] of [
        ['link cut 20 s, net_ticktime 60 (default)', []],
        ['link cut 20 s, net_ticktime 4', ['-kernel', 'net_ticktime', '4']],
      ] as Array<[string, string[]]>) {
        await b.boot(args);
        for (let i = 0; i < runs; i++) await b.linkCut(tag);
      }
    }
    await b.boot();
    if (want('agents')) {
      for (let i = 0; i < runs; i++) await b.agentRestart('client');
      for (let i = 0; i < runs; i++) await b.agentRestart('server');
    }
    for (let i = 0; want('host') && i < runs; i++) {
      await b.hostLost();
      await b.boot();
    }
    console.log('\n| measurement | median | samples |\n|---|---|---|');
    for (const [k, v] of Object.entries(b.samples)) console.log(`| ${k} | ${median(v)} | ${v.join(', ')} |`);
  } finally {
    await cluster.stop();
  }
}

main(Number(process.argv[2] ?? 3), process.argv.slice(3)).catch((e) => {
  console.error(e);
  process.exit(1);
});

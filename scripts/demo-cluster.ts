// `npm run demo -- --hosts N`: the demo on a production-shaped cluster (support/cluster): one
// Consul server and a client agent on each of N hosts (network namespaces on a private subnet),
// ACLs with default deny, gossip encryption, TLS, HTTPS-only agent APIs with verify_incoming.
// Deploys a release-style mesh through Terraform, boots the nodes on their hosts over HTTPS,
// shows the ping matrix, probes a host from another, cuts a host off and back, and cleans up.
import { randomUUID } from 'node:crypto';
import { Cluster } from '../support/cluster/cluster';
import { bootClusterNodes, deployClusterMesh } from '../support/cluster/mesh';
import { dialFrom } from '../support/cluster/probes';
import { leftovers } from '../support/leftovers';
import { MeshNode } from '../support/mesh-node';

const STEPS = 7;
const say = (n: number, msg: string) => console.log(`\n\x1b[1m[demo ${n}/${STEPS}]\x1b[0m ${msg}`);
const ok = (msg: string) => console.log(`  \u2713 ${msg}`);

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`demo expectation failed: ${msg}`);
  ok(msg);
}

/** app@app-<h> on every host in a full mesh, plus jobs@app-1 connected to app@app-2 only. */
function meshSpec(hosts: number) {
  const nodes = [...Array.from({ length: hosts }, (_, i) => ({ alive: 'app', host: i + 1 })), { alive: 'jobs', host: 1 }];
  const edges: Array<[number, number]> = [];
  for (let a = 0; a < hosts; a++) for (let b = a + 1; b < hosts; b++) edges.push([a, b]);
  edges.push([hosts, 1]);
  return { mesh: 'rel', nodes, edges };
}

async function pingMatrix(nodes: MeshNode[], connected: (a: number, b: number) => boolean): Promise<void> {
  for (const [i, a] of nodes.entries()) {
    for (const [j, b] of nodes.entries()) {
      if (i !== j)
        check(
          (await a.ping(b.name)) === (connected(i, j) ? 'pong' : 'pang'),
          `${a.name} -> ${b.name}: ${connected(i, j) ? 'pong' : 'pang (not connected: default deny)'}`,
        );
    }
  }
}

export async function clusterDemo(hosts: number): Promise<void> {
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > 8) throw new Error(`--hosts must be a whole number from 2 to 8, got '${hosts}'`);
  let cluster: Cluster | undefined;
  let nodes: MeshNode[] = [];
  try {
    say(1, `start ${hosts} hosts (network namespaces on 10.213.0.0/24) and a server host: Consul server + a client agent per host`);
    cluster = await Cluster.start({ hosts });
    ok(`Consul ${(await cluster.api.self()).version}: ACLs default deny, gossip encryption, TLS RPC, HTTPS-only APIs with verify_incoming`);
    for (const h of cluster.hosts) ok(`${h.name} at ${h.link.address}: client agent pid ${h.agent.pid}, API https://127.0.0.1:8501 inside the host`);

    say(2, 'deploy a release-style mesh through Terraform (provider from the local mirror): app@app-<n> on every host, jobs@app-1 beside app@app-1');
    const spec = meshSpec(hosts);
    const { nodes: deployed, stack } = await deployClusterMesh(cluster, spec);
    for (const d of deployed) ok(`${d.node}: manifest at ${d.kv}, its own token in a 0600 file`);

    say(3, 'boot every node on its host: meshx-node run --kv over HTTPS (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY)');
    nodes = await bootClusterNodes(cluster, deployed, randomUUID());
    for (const n of nodes) ok(`${n.name}: ${n.output.match(/registered \S+ \(([^)]*)\)/)![1]}; health passing`);

    say(4, 'the ping matrix across hosts');
    const connected = (a: number, b: number) => spec.edges.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
    await pingMatrix(nodes, connected);

    say(5, 'from app-2, probe app-1: EPMD and distribution ports are loopback-only, the sidecar is the way in');
    const addr = cluster.hosts[0].link.address;
    const app1 = nodes[0];
    const port = (re: RegExp) => Number(app1.output.match(re)![1]);
    const got = dialFrom(cluster, cluster.hosts[1], [
      [addr, port(/epmd :(\d+)/)],
      [addr, port(/dist 127\.0\.0\.1:(\d+)/)],
      [addr, port(/sidecar :(\d+)/)],
    ]);
    check(got.join(' ') === 'refused refused open', `EPMD ${got[0]}, distribution ${got[1]}, sidecar (mTLS) ${got[2]}`);

    say(6, 'cut app-2 off the network, then restore it');
    cluster.setLink(cluster.hosts[1], false);
    check((await app1.pingUntil(nodes[1].name, 'pang', 20_000)) === 'pang', `${app1.name} -> ${nodes[1].name}: pang while app-2 is cut off`);
    cluster.setLink(cluster.hosts[1], true);
    const t0 = Date.now();
    check(
      (await app1.pingUntil(nodes[1].name, 'pong', 90_000)) === 'pong',
      `pong again ${((Date.now() - t0) / 1000).toFixed(1)} s after the link came back (Serf rejoins the host; its checks pass again)`,
    );

    say(7, 'stop the nodes, terraform destroy, stop the cluster');
    const codes = await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    check(codes.every((c) => c === 0), `helpers exited ${codes.join(', ')}`);
    await stack.destroy();
    const left = await leftovers(cluster.api);
    check(left.filter((l) => !l.startsWith('token agent ')).length === 0, 'nothing of the stack left on the cluster');
  } catch (e) {
    for (const n of nodes) console.error(`\n--- output of ${n.name} ---\n${n.output}`);
    throw e;
  } finally {
    await cluster?.stop();
  }
  ok('every process stopped by pid, every namespace deleted');
  console.log('\nCluster demo complete.');
}

// The cluster harness in one call, for the benchmarks and the demo: an N-host cluster with M
// nodes per host in a full mesh, deployed through Terraform; nodes booted (and stopped) on demand.
import { MeshNode, MeshNodeOptions } from '../mesh-node';
import { Cluster, ClusterOptions } from './cluster';
import { bootClusterNodes, DeployedNode, deployClusterMesh } from './mesh';

export { Cluster } from './cluster';
export type { ClusterHost, ClusterOptions } from './cluster';
export type { DeployedNode } from './mesh';

export interface MeshCluster {
  readonly cluster: Cluster;
  /** `n<k>@app-<h>.cluster.test`, k = 1..nodesPerHost, h = 1..hosts; host-major order. */
  readonly nodes: DeployedNode[];
  /** Boots every node at once (meshx-node run --kv, own tokens); resolves when all are discoverable. */
  boot(cookie: string, extra?: Partial<MeshNodeOptions>): Promise<MeshNode[]>;
  /** Stops booted nodes (SIGTERM) and waits until the agents forgot them. */
  stopNodes(nodes: MeshNode[]): Promise<void>;
  /** Stops everything (processes, namespaces, files). */
  stop(): Promise<void>;
}

/** Starts `hosts` hosts and deploys a full mesh of `nodesPerHost` nodes on each (not yet booted). */
export async function startMeshCluster(hosts: number, nodesPerHost: number, o: ClusterOptions = {}): Promise<MeshCluster> {
  const cluster = await Cluster.start({ ...o, hosts });
  try {
    const specs = Array.from({ length: hosts * nodesPerHost }, (_, i) => ({
      alive: `n${(i % nodesPerHost) + 1}`,
      host: Math.floor(i / nodesPerHost) + 1,
    }));
    const { nodes } = await deployClusterMesh(cluster, { mesh: 'mx', nodes: specs });
    return {
      cluster,
      nodes,
      boot: (cookie, extra) => bootClusterNodes(cluster, nodes, cookie, extra),
      stopNodes: async (booted) => {
        await Promise.all(booted.map((n) => n.stop('SIGTERM')));
        for (const h of cluster.hosts) h.nodes.splice(0, h.nodes.length, ...h.nodes.filter((n) => !booted.includes(n)));
      },
      stop: () => cluster.stop(),
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

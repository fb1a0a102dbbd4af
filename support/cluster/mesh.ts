// A ClusterStack deployed to a Cluster through the real Terraform CLI and the provider in the
// local mirror (through the harness's tunnel), and its nodes booted on their hosts with
// `meshx-node run --kv` and the tokens Terraform created.
import * as path from 'node:path';
import { ClusterNodeSpec, ClusterStack, ClusterStackProps } from '../apps/cluster-stack';
import { waitDiscoverable } from '../consul-dev-agent';
import { MeshNode, MeshNodeOptions } from '../mesh-node';
import { synthToDir } from '../synth';
import { deploySynth, TerraformStackDir, writeTokenFile } from '../terraform';
import { Cluster } from './cluster';

export interface DeployedNode extends ClusterNodeSpec {
  readonly node: string;
  readonly service: string;
  readonly kv: string;
  readonly tokenFile: string;
}

export interface DeployedMesh {
  readonly nodes: DeployedNode[];
  readonly stack: TerraformStackDir;
}

/** Synthesizes and applies the stack; writes each node's token to a 0600 file in the cluster's work dir. */
export async function deployClusterMesh(cluster: Cluster, props: ClusterStackProps): Promise<DeployedMesh> {
  let built: ClusterStack | undefined;
  const synth = synthToDir((app) => (built = new ClusterStack(app, props.mesh, props)));
  const stack = await deploySynth(synth.outdir, props.mesh, cluster);
  const accessors = await stack.tokenAccessors();
  const nodes: DeployedNode[] = [];
  for (const [i, n] of built!.nodes.entries()) {
    const tokenFile = await writeTokenFile(cluster.api, accessors[n.serviceName], path.join(cluster.work, `${n.serviceName}.token`));
    nodes.push({ ...props.nodes[i], node: n.nodeName, service: n.serviceName, kv: n.kvKey, tokenFile });
  }
  return { nodes, stack };
}

/** Boots deployed nodes on their hosts, all at once; waits until every sidecar is discoverable. */
export async function bootClusterNodes(
  cluster: Cluster,
  nodes: DeployedNode[],
  cookie: string,
  extra: Partial<MeshNodeOptions> = {},
): Promise<MeshNode[]> {
  const booted = await Promise.all(
    nodes.map((n) => cluster.bootNode(cluster.hosts[n.host - 1], { kv: n.kv, node: n.node, tokenFile: n.tokenFile, cookie, ...extra })),
  );
  await waitDiscoverable(
    cluster.api,
    nodes.map((n) => n.service),
    60_000,
  );
  return booted;
}

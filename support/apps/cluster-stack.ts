// The mesh of the cluster tests, demo and benchmarks: nodes named for the hosts of
// support/cluster (`<alive>@app-<n>.cluster.test`), CONFIG_ENTRY intentions (the default; the
// cluster runs Consul 1.14), ACL tokens on, built-in proxies.
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, BeamNode, ProxyKind } from '../../lib';

export interface ClusterNodeSpec {
  /** The part before `@`, e.g. `app` (release-style) or `jobs`. */
  readonly alive: string;
  /** Host index, 1-based: app-<host>.cluster.test. */
  readonly host: number;
  /** The full node name instead of `<alive>@app-<host>.cluster.test`, e.g. a short name `rabbit@app-1`. */
  readonly nodeName?: string;
  /** A fixed distribution port (an application that sets its own, like RabbitMQ). @default 0: the helper picks one */
  readonly distPort?: number;
}

export interface ClusterStackProps {
  readonly mesh: string;
  readonly nodes: ClusterNodeSpec[];
  /** Pairs of indexes into `nodes`, connected both ways; omitted: full mesh. */
  readonly edges?: Array<[number, number]>;
}

export const clusterHostName = (host: number) => `app-${host}.cluster.test`;

export class ClusterStack extends TerraformStack {
  public readonly nodes: BeamNode[];

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id);
    new ConsulProvider(this, 'consul', {});
    const mesh = new BeamMesh(this, 'Mesh', { name: props.mesh, acl: true, proxy: ProxyKind.BUILTIN });
    this.nodes = props.nodes.map((n) =>
      mesh.addNode(`${n.alive}${n.host}`, { nodeName: n.nodeName ?? `${n.alive}@${clusterHostName(n.host)}`, distPort: n.distPort }),
    );
    if (!props.edges) mesh.connectAll();
    else for (const [a, b] of props.edges) mesh.connect(this.nodes[a], this.nodes[b]);
  }
}

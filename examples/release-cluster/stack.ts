import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, BeamNode, IntentionsMode, ProxyKind } from '../../lib';

/** Options of the example. */
export interface ReleaseClusterStackProps {
  /** Host names, one node `app@<host>` each. @default three hosts app-1..3.cluster.test */
  readonly hosts?: string[];
  /** Per-node ACL tokens; an agent with ACLs disabled refuses them. @default true */
  readonly acl?: boolean;
}

/**
 * Three release nodes, all named `app@<host>` as mix and rebar3 releases name them, in a full
 * mesh. PORT_PLEASE2 carries only `app`, so each peer host gets its own loopback address.
 * LEGACY intentions: this one is written for a Consul 1.8 cluster.
 */
export class ReleaseClusterStack extends TerraformStack {
  public readonly mesh: BeamMesh;
  public readonly nodes: BeamNode[];

  constructor(scope: Construct, id: string, props: ReleaseClusterStackProps = {}) {
    super(scope, id);
    new ConsulProvider(this, 'consul', {});
    this.mesh = new BeamMesh(this, 'Mesh', {
      name: 'release',
      intentionsMode: IntentionsMode.LEGACY,
      acl: props.acl,
      proxy: ProxyKind.BUILTIN,
    });
    const hosts = props.hosts ?? ['app-1.cluster.test', 'app-2.cluster.test', 'app-3.cluster.test'];
    this.nodes = hosts.map((host, i) => this.mesh.addNode(`App${i + 1}`, { nodeName: `app@${host}` }));
    this.mesh.connectAll();
  }
}

import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, BeamNode, IntentionsMode, ProxyKind } from '../../lib';

/**
 * Three release nodes, all named `app@<host>` as mix and rebar3 releases name them, in a full
 * mesh. PORT_PLEASE2 carries only `app`, so each peer host gets its own loopback address.
 */
export class ReleaseClusterStack extends TerraformStack {
  public readonly mesh: BeamMesh;
  public readonly nodes: BeamNode[];

  constructor(scope: Construct, id: string, hosts = ['app-1.cluster.test', 'app-2.cluster.test', 'app-3.cluster.test']) {
    super(scope, id);
    new ConsulProvider(this, 'consul', {});
    this.mesh = new BeamMesh(this, 'Mesh', {
      name: 'release',
      intentionsMode: IntentionsMode.LEGACY,
      proxy: ProxyKind.BUILTIN,
    });
    this.nodes = hosts.map((host, i) => this.mesh.addNode(`App${i + 1}`, { nodeName: `app@${host}` }));
    this.mesh.connectAll();
  }
}

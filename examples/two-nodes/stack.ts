import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, BeamNode, IntentionsMode, ProxyKind } from '../../lib';

/**
 * Two nodes on two hosts, allowed to talk both ways. Written for the Consul 1.8 agent the demo
 * and tests run (LEGACY intentions, built-in proxy); drop those two props on Consul 1.9+.
 */
export class TwoNodesStack extends TerraformStack {
  public readonly mesh: BeamMesh;
  public readonly orders: BeamNode;
  public readonly billing: BeamNode;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    new ConsulProvider(this, 'consul', {});
    this.mesh = new BeamMesh(this, 'Mesh', {
      name: 'shop',
      intentionsMode: IntentionsMode.LEGACY,
      proxy: ProxyKind.BUILTIN,
    });
    this.orders = this.mesh.addNode('Orders', { nodeName: 'orders@orders-1.shop.test', tags: ['orders'] });
    this.billing = this.mesh.addNode('Billing', { nodeName: 'billing@billing-1.shop.test', tags: ['billing'] });
    this.mesh.connect(this.orders, this.billing);
  }
}

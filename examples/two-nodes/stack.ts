import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, BeamNode, IntentionsMode, ProxyKind } from '../../lib';

/** Options of the example, for the Consul it is deployed to. */
export interface TwoNodesStackProps {
  /** @default IntentionsMode.CONFIG_ENTRY (Consul 1.9+); LEGACY for Consul 1.8 */
  readonly intentionsMode?: IntentionsMode;
  /** Per-node ACL tokens; an agent with ACLs disabled refuses them. @default true */
  readonly acl?: boolean;
}

/**
 * Two nodes on two hosts, allowed to talk both ways, with the defaults: service-intentions
 * config entries, default deny, a least-privilege ACL token per node. Built-in sidecar proxies,
 * since Envoy is not packaged for the machines the demo runs on.
 */
export class TwoNodesStack extends TerraformStack {
  public readonly mesh: BeamMesh;
  public readonly orders: BeamNode;
  public readonly billing: BeamNode;

  constructor(scope: Construct, id: string, props: TwoNodesStackProps = {}) {
    super(scope, id);
    // Address and token from CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN.
    new ConsulProvider(this, 'consul', {});
    this.mesh = new BeamMesh(this, 'Mesh', {
      name: 'shop',
      intentionsMode: props.intentionsMode,
      acl: props.acl,
      proxy: ProxyKind.BUILTIN,
    });
    this.orders = this.mesh.addNode('Orders', { nodeName: 'orders@orders-1.shop.test', tags: ['orders'] });
    this.billing = this.mesh.addNode('Billing', { nodeName: 'billing@billing-1.shop.test', tags: ['billing'] });
    this.mesh.connect(this.orders, this.billing);
  }
}

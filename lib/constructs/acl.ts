import { TerraformProvider } from 'cdktf';
import { AclPolicy } from '@cdktf/provider-consul/lib/acl-policy';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { Construct } from 'constructs';
import { ProxyKind } from '../manifest/types';

/**
 * Properties of a {@link NodeAcl}.
 */
export interface NodeAclProps {
  /** Service the token may register (with its sidecar), through a service identity. */
  readonly serviceName: string;
  /** Erlang node name, for descriptions. */
  readonly nodeName: string;
  /** KV key of the node's manifest, the only key the token may read. */
  readonly kvKey: string;
  /** Proxy kind; Envoy also needs `agent:read` on modern Consul. */
  readonly proxy: ProxyKind;
  /**
   * Datacenter the service identity is valid in.
   * @default - all datacenters
   */
  readonly datacenter?: string;
  /**
   * Consul provider of the resources.
   * @default - the stack's default Consul provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A least-privilege ACL token for one node: a service identity (write on the node's service
 * and its sidecar, read on services and nodes for upstream discovery) plus read on the node's
 * own manifest key. The secret is never synthesized: read it with
 * `consul acl token read -id <accessor>` where the node boots.
 */
export class NodeAcl extends Construct {
  /** The policy granting read on the manifest key. */
  public readonly policy: AclPolicy;
  /** The node's token. */
  public readonly token: AclToken;

  constructor(scope: Construct, id: string, props: NodeAclProps) {
    super(scope, id);
    const rules = [`key "${props.kvKey}" {\n  policy = "read"\n}`];
    // consul connect envoy reads /v1/agent/self (gRPC port, NodeID) on Consul 1.15+.
    if (props.proxy === ProxyKind.ENVOY) rules.push('agent_prefix "" {\n  policy = "read"\n}');
    this.policy = new AclPolicy(this, 'Policy', {
      name: `${props.serviceName}-meshx-node`,
      description: `meshx-node: read the manifest of ${props.nodeName}`,
      rules: rules.join('\n') + '\n',
      datacenters: props.datacenter ? [props.datacenter] : undefined,
      provider: props.provider,
    });
    this.token = new AclToken(this, 'Token', {
      description: `meshx-node: ${props.nodeName} (${props.serviceName})`,
      local: false,
      policies: [this.policy.name],
      serviceIdentities: [{ serviceName: props.serviceName, datacenters: props.datacenter ? [props.datacenter] : undefined }],
      provider: props.provider,
    });
  }
}

import { AclBindingRule } from '@cdktf/provider-consul/lib/acl-binding-rule';
import { AclPolicy } from '@cdktf/provider-consul/lib/acl-policy';
import { AclRole } from '@cdktf/provider-consul/lib/acl-role';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { LOGIN_SERVICE_VAR } from '../manifest/rules';
import { ProxyKind } from '../manifest/types';
import { sameStackRef } from './attribute-ref';

/**
 * Properties of a {@link NodeAcl}.
 */
export interface NodeAclProps {
  /** Service the token may register (with its sidecar), through a service identity. */
  readonly serviceName: string;
  /** Erlang node name (or a replica group's display name), for descriptions. */
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
   * Name of an ACL auth method (see {@link MeshLogin}). When set, no static token is made: a role
   * holds the service identity and the manifest-read policy, and a binding rule gives that role,
   * and only it, to a login whose service claim (mapped to `meshx_service`) equals `serviceName`.
   * @default - a static token
   */
  readonly authMethod?: string;
  /**
   * Consul provider of the resources.
   * @default - the stack's default Consul provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * Least-privilege ACL for one node or replica group (its replicas share it): a service identity (write on the node's service and its
 * sidecar, read on services and nodes for upstream discovery) plus read on the node's own
 * manifest key. Either as a static token (the default; the secret is never synthesized: read it
 * with `consul acl token read -id <accessor>` where the node boots), or, with `authMethod`, as a
 * role that a login for this node (and no other) receives.
 */
export class NodeAcl extends Construct {
  /** The policy granting read on the manifest key. */
  public readonly policy: AclPolicy;
  /** The node's static token; undefined with `authMethod`. */
  public readonly token?: AclToken;
  /** The role a login for this node receives; only with `authMethod`. */
  public readonly role?: AclRole;
  /** The binding rule giving `role` to a login for this node; only with `authMethod`. */
  public readonly bindingRule?: AclBindingRule;

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
    // The policy, role and token are siblings: same-stack references, without cdktf's stack capture.
    const policies = [sameStackRef(this.policy, 'name')];
    const serviceIdentities = [{ serviceName: props.serviceName, datacenters: props.datacenter ? [props.datacenter] : undefined }];
    if (props.authMethod === undefined) {
      this.token = new AclToken(this, 'Token', {
        description: `meshx-node: ${props.nodeName} (${props.serviceName})`,
        local: false,
        policies,
        serviceIdentities,
        provider: props.provider,
      });
      return;
    }
    this.role = new AclRole(this, 'Role', {
      name: `${props.serviceName}-meshx-node`,
      description: `meshx-node: what a login for ${props.nodeName} receives`,
      policies,
      serviceIdentities,
      provider: props.provider,
    });
    // Service names are lowercase DNS labels, so the selector needs no escaping.
    this.bindingRule = new AclBindingRule(this, 'BindingRule', {
      authMethod: props.authMethod,
      description: `meshx-node: a login for ${props.nodeName} gets role ${props.serviceName}-meshx-node`,
      selector: `value.${LOGIN_SERVICE_VAR} == "${props.serviceName}"`,
      bindType: 'role',
      bindName: sameStackRef(this.role, 'name'),
      provider: props.provider,
    });
  }
}

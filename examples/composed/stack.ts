import { AclPolicy } from '@cdktf/provider-consul/lib/acl-policy';
import { Keys } from '@cdktf/provider-consul/lib/keys';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { Aspects, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { BeamMesh, MeshPolicy } from '../../lib';

/** Where the platform's Consul clusters are. */
export interface ComposedStackProps {
  /** @default "consul.dc1.internal:8500" */
  readonly dc1Address?: string;
  /** @default "consul.dc2.internal:8500" */
  readonly dc2Address?: string;
}

/**
 * The mesh as one part of a larger platform stack that owns its provider (an aliased one, for a
 * second datacenter) and other resources. Defaults: CONFIG_ENTRY intentions (Consul 1.9+),
 * Envoy sidecars, default deny, ACL tokens.
 */
export class ComposedStack extends TerraformStack {
  public readonly mesh: BeamMesh;

  constructor(scope: Construct, id: string, props: ComposedStackProps = {}) {
    super(scope, id);
    new ConsulProvider(this, 'consul', { address: props.dc1Address ?? 'consul.dc1.internal:8500' });
    const dc2 = new ConsulProvider(this, 'consul-dc2', { alias: 'dc2', address: props.dc2Address ?? 'consul.dc2.internal:8500', datacenter: 'dc2' });

    // Resources the platform team already has.
    new Keys(this, 'FeatureFlags', { key: [{ path: 'platform/flags/new-checkout', value: 'on' }] });
    new AclPolicy(this, 'OpsRead', { name: 'ops-read', rules: 'node_prefix "" { policy = "read" }\nservice_prefix "" { policy = "read" }\n' });

    // The BEAM cluster, in dc2, through the aliased provider.
    this.mesh = new BeamMesh(this, 'Payments', { name: 'payments', datacenter: 'dc2', provider: dc2, kvPrefix: 'platform/meshx' });
    const api = this.mesh.addNode('Api', { nodeName: 'api@api-1.dc2.internal', distPort: 9100, sidecarPort: 21000, epmdPort: 4370 });
    const ledger = this.mesh.addNode('Ledger', { nodeName: 'ledger@ledger-1.dc2.internal', distPort: 9100, meta: { team: 'ledger' } });
    const audit = this.mesh.addNode('Audit', { nodeName: 'audit@audit-1.dc2.internal' });
    this.mesh.connect(api, ledger);
    // Audit may call the ledger; the ledger never dials audit.
    this.mesh.connect(audit, ledger, { bidirectional: false });

    // The platform's rules for every mesh in this stack; a violation fails `cdktf synth`.
    for (const rule of [MeshPolicy.requireDefaultDeny(), MeshPolicy.forbidWildcardAllow(), MeshPolicy.requireAcl(), MeshPolicy.maxPeersPerNode(2)]) {
      Aspects.of(this).add(rule);
    }

    for (const n of this.mesh.nodes) {
      new TerraformOutput(this, `${n.serviceName}-token-accessor`, { value: n.token!.accessorId, description: `ACL token accessor of ${n.nodeName}` });
    }
  }
}

import { TerraformProvider } from 'cdktf';
import { Keys } from '@cdktf/provider-consul/lib/keys';
import { Construct } from 'constructs';
import { NodeManifest } from '../manifest/types';

/**
 * Properties of a {@link ManifestKey}.
 */
export interface ManifestKeyProps {
  /** KV key to write. */
  readonly key: string;
  /** The manifest. */
  readonly manifest: NodeManifest;
  /**
   * Datacenter of the KV store.
   * @default - the provider's datacenter
   */
  readonly datacenter?: string;
  /**
   * Consul provider of the resource.
   * @default - the stack's default Consul provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A node manifest in Consul KV, as plain JSON (no Terraform references), deleted on destroy.
 */
export class ManifestKey extends Construct {
  /** The `consul_keys` resource. */
  public readonly resource: Keys;

  constructor(scope: Construct, id: string, props: ManifestKeyProps) {
    super(scope, id);
    this.resource = new Keys(this, 'Resource', {
      key: [{ path: props.key, value: JSON.stringify(props.manifest), delete: true }],
      datacenter: props.datacenter,
      provider: props.provider,
    });
  }
}

import { IResolvable, TerraformProvider, Tokenization } from 'cdktf';
import { Keys } from '@cdktf/provider-consul/lib/keys';
import { Construct } from 'constructs';
import { GroupManifest, NodeManifest } from '../manifest/types';
import { SynthValue } from './synth-value';

/**
 * Properties of a {@link ManifestKey}.
 */
export interface ManifestKeyProps {
  /** KV key to write. */
  readonly key: string;
  /**
   * The node or group manifest, or a value that resolves to one at synth (as `BeamNode` and
   * `BeamReplicas` pass it, since their peers are known only once the mesh's connections are).
   * @experimental a group manifest is accepted since replica groups
   */
  readonly manifest: NodeManifest | GroupManifest | IResolvable;
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
 * A node or group manifest in Consul KV, as plain JSON (no Terraform references), deleted on destroy.
 */
export class ManifestKey extends Construct {
  /** The `consul_keys` resource. */
  public readonly resource: Keys;

  constructor(scope: Construct, id: string, props: ManifestKeyProps) {
    super(scope, id);
    const manifest = props.manifest;
    const value = Tokenization.isResolvable(manifest)
      ? SynthValue.string((context) => JSON.stringify(manifest.resolve(context)))
      : JSON.stringify(manifest);
    this.resource = new Keys(this, 'Resource', {
      key: [{ path: props.key, value, delete: true }],
      datacenter: props.datacenter,
      provider: props.provider,
    });
  }
}

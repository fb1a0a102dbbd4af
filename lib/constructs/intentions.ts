import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Intention } from '@cdktf/provider-consul/lib/intention';
import { Construct } from 'constructs';
import { IntentionsMode } from './intentions-mode';
import type { BeamMesh } from './mesh';

/**
 * Properties of {@link MeshIntentions}.
 */
export interface MeshIntentionsProps {
  /** The mesh whose connections become intentions. */
  readonly mesh: BeamMesh;
}

// Precedence and Type are what Consul computes; omitting them gives a permanent diff (provider #281).
const EXACT_PRECEDENCE = 9;
const WILDCARD_SOURCE_PRECEDENCE = 8;

/**
 * The intentions of a mesh: an allow per declared direction, plus a `*` deny per node when the
 * mesh is default-deny. CONFIG_ENTRY writes one `service-intentions` entry per destination (the
 * provider cannot merge partial entries); LEGACY one `consul_intention` per pair.
 */
export class MeshIntentions extends Construct {
  constructor(scope: Construct, id: string, props: MeshIntentionsProps) {
    super(scope, id);
    const mesh = props.mesh;
    const sorted = [...mesh.nodes].sort((a, b) => (a.nodeName < b.nodeName ? -1 : 1));
    for (const dest of sorted) {
      const sources = mesh.sourcesOf(dest);
      if (mesh.intentionsMode === IntentionsMode.CONFIG_ENTRY) {
        if (sources.length === 0 && !mesh.defaultDeny) continue;
        const entries: object[] = sources.map((s) => ({
          Name: s.serviceName,
          Action: 'allow',
          Precedence: EXACT_PRECEDENCE,
          Type: 'consul',
          Description: `meshx-node: ${s.nodeName} -> ${dest.nodeName}`,
        }));
        if (mesh.defaultDeny) {
          entries.push({ Name: '*', Action: 'deny', Precedence: WILDCARD_SOURCE_PRECEDENCE, Type: 'consul', Description: `meshx-node: default deny for ${dest.nodeName}` });
        }
        new ConfigEntry(this, dest.serviceName, {
          kind: 'service-intentions',
          name: dest.serviceName,
          configJson: JSON.stringify({ Sources: entries }),
          provider: mesh.provider,
        });
      } else {
        for (const s of sources) {
          new Intention(this, `${s.serviceName}--${dest.serviceName}`, {
            sourceName: s.serviceName,
            destinationName: dest.serviceName,
            action: 'allow',
            description: `meshx-node: ${s.nodeName} -> ${dest.nodeName}`,
            datacenter: mesh.datacenter,
            provider: mesh.provider,
          });
        }
        if (mesh.defaultDeny) {
          new Intention(this, `deny--${dest.serviceName}`, {
            sourceName: '*',
            destinationName: dest.serviceName,
            action: 'deny',
            description: `meshx-node: default deny for ${dest.nodeName}`,
            datacenter: mesh.datacenter,
            provider: mesh.provider,
          });
        }
      }
    }
  }
}

import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Intention } from '@cdktf/provider-consul/lib/intention';
import { Construct } from 'constructs';
import { IntentionsMode } from './intentions-mode';
import type { IBeamMesh, IMeshMember, MeshTopologyListener } from './mesh-base';
import { SynthValue } from './synth-value';

/**
 * Properties of {@link MeshIntentions}.
 */
export interface MeshIntentionsProps {
  /** The mesh whose connections become intentions. */
  readonly mesh: IBeamMesh;
}

// Precedence and Type are what Consul computes; omitting them gives a permanent diff (provider #281).
const EXACT_PRECEDENCE = 9;
const WILDCARD_SOURCE_PRECEDENCE = 8;

/**
 * The intentions of a mesh: an allow per declared direction, plus a `*` deny per member (node or
 * replica group) when the mesh is default-deny; a group whose replicas reach each other gets an
 * allow from its own service. CONFIG_ENTRY writes one `service-intentions` entry per destination (the
 * provider cannot merge partial entries), its sources resolved at synth; LEGACY one
 * `consul_intention` per pair. Each resource is created when its node or connection is added
 * (the mesh makes one of these and tells it), so nothing waits for an aspect.
 * @experimental a replica group is one more destination
 */
export class MeshIntentions extends Construct implements MeshTopologyListener {
  private readonly mesh: IBeamMesh;
  /** Destinations whose entry exists: every edge names one, so no child lookup per edge. */
  private readonly withEntry = new Set<IMeshMember>();

  constructor(scope: Construct, id: string, props: MeshIntentionsProps) {
    super(scope, id);
    this.mesh = props.mesh;
    for (const node of this.mesh.nodes) this._nodeAdded(node);
    for (const edge of this.mesh.edges) this._edgeAdded(edge.from, edge.to);
    this.mesh._track(this);
  }

  /** @internal a node or group joined the mesh: its default deny, if the mesh has one. */
  public _nodeAdded(dest: IMeshMember): void {
    if (!this.mesh.defaultDeny) return;
    if (this.mesh.intentionsMode === IntentionsMode.CONFIG_ENTRY) {
      this.entryFor(dest);
      return;
    }
    this.legacy(`deny--${dest.serviceName}`, '*', dest, 'deny', `meshx-node: default deny for ${dest.displayName}`);
  }

  /** @internal `from` may now dial `to` (told again for a known pair: idempotent). */
  public _edgeAdded(from: IMeshMember, to: IMeshMember): void {
    if (this.mesh.intentionsMode === IntentionsMode.CONFIG_ENTRY) {
      this.entryFor(to);
      return;
    }
    this.legacy(`${from.serviceName}--${to.serviceName}`, from.serviceName, to, 'allow', allowDescription(from, to));
  }

  /** The destination's `service-intentions` entry; its sources are read from the mesh at synth. */
  private entryFor(dest: IMeshMember): void {
    if (this.withEntry.has(dest)) return;
    this.withEntry.add(dest);
    new ConfigEntry(this, dest.serviceName, {
      kind: 'service-intentions',
      name: dest.serviceName,
      configJson: SynthValue.string(() => JSON.stringify({ Sources: this.sources(dest) })),
      provider: this.mesh.provider,
    });
  }

  private sources(dest: IMeshMember): object[] {
    const entries: object[] = this.mesh.sourcesOf(dest).map((s) => ({
      Name: s.serviceName,
      Action: 'allow',
      Precedence: EXACT_PRECEDENCE,
      Type: 'consul',
      Description: allowDescription(s, dest),
    }));
    if (this.mesh.defaultDeny) {
      const description = `meshx-node: default deny for ${dest.displayName}`;
      entries.push({ Name: '*', Action: 'deny', Precedence: WILDCARD_SOURCE_PRECEDENCE, Type: 'consul', Description: description });
    }
    return entries;
  }

  private legacy(id: string, source: string, dest: IMeshMember, action: 'allow' | 'deny', description: string): void {
    if (this.node.tryFindChild(id)) return;
    new Intention(this, id, {
      sourceName: source,
      destinationName: dest.serviceName,
      action,
      description,
      datacenter: this.mesh.datacenter,
      provider: this.mesh.provider,
    });
  }
}

function allowDescription(from: IMeshMember, to: IMeshMember): string {
  return from === to ? `meshx-node: replicas of ${to.displayName} reach each other` : `meshx-node: ${from.displayName} -> ${to.displayName}`;
}

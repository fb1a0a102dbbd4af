import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Intention } from '@cdktf/provider-consul/lib/intention';
import { DefaultTokenResolver, IAspect, StringConcat, Token, Tokenization } from 'cdktf';
import { IConstruct } from 'constructs';
import { fail } from './errors';
import { BeamMesh } from './mesh';
import { BeamNode } from './node';
import { BeamReplicas } from './replicas';

/**
 * Mesh policy rules, as aspects: add them to a stack or construct with `Aspects.of(scope).add(...)`
 * (aspects on the App never run). A violation fails synth with the construct path.
 */
export class MeshPolicy {
  /** Every mesh must add a `*` deny to its nodes and groups (`defaultDeny`). */
  public static requireDefaultDeny(): IAspect {
    return new MeshRule('requireDefaultDeny', (c) => {
      if (!(c instanceof BeamMesh) || c.defaultDeny) return;
      fail(c, `MeshPolicy.requireDefaultDeny: mesh '${c.meshName}' has defaultDeny: false; undeclared services could reach its nodes`);
    });
  }

  /** No intention anywhere in scope may allow `*` (every service) to reach a destination. */
  public static forbidWildcardAllow(): IAspect {
    return new MeshRule('forbidWildcardAllow', (c) => {
      if (c instanceof Intention) {
        const source = c.sourceNameInput;
        const action = c.actionInput;
        if (source === '*' && action === 'allow') {
          fail(c, `MeshPolicy.forbidWildcardAllow: intention * -> ${c.destinationNameInput} allows every service`);
        }
      }
      if (c instanceof ConfigEntry && c.kindInput === 'service-intentions') {
        // A mesh's entries are resolved at synth (their sources depend on the whole mesh).
        const input = c.configJsonInput;
        const resolver = new DefaultTokenResolver(new StringConcat());
        const json = input !== undefined && Token.isUnresolved(input) ? Tokenization.resolve(input, { scope: c, resolver }) : input;
        if (typeof json !== 'string' || Token.isUnresolved(json)) return;
        const wild = (JSON.parse(json).Sources ?? []).find((s: any) => s.Name === '*' && s.Action === 'allow');
        if (wild) fail(c, `MeshPolicy.forbidWildcardAllow: service-intentions for ${c.nameInput} allows every service (*)`);
      }
    });
  }

  /** Every mesh must create per-node ACL tokens (`acl`). */
  public static requireAcl(): IAspect {
    return new MeshRule('requireAcl', (c) => {
      if (c instanceof BeamMesh && !c.acl) fail(c, `MeshPolicy.requireAcl: mesh '${c.meshName}' has acl: false; nodes would share a token`);
    });
  }

  /**
   * No node, and no replica group, may dial more than `max` peers (bounds upstream listeners and
   * blast radius). A peer group counts as one peer, the own group included (`connectReplicas`),
   * whatever its replica count.
   */
  public static maxPeersPerNode(max: number): IAspect {
    if (!Number.isInteger(max) || max < 0) throw new Error(`MeshPolicy.maxPeersPerNode: max must be a whole number >= 0, got ${max}`);
    return new MeshRule(`maxPeersPerNode(${max})`, (c) => {
      if (!(c instanceof BeamNode || c instanceof BeamReplicas) || c.peers.length <= max) return;
      const peers = c.peers.map((p) => p.displayName).join(', ');
      fail(c, `MeshPolicy.maxPeersPerNode(${max}): ${c.displayName} may dial ${c.peers.length} peers (${peers})`);
    });
  }
}

class MeshRule implements IAspect {
  constructor(public readonly name: string, private readonly check: (c: IConstruct) => void) {}

  public visit(node: IConstruct): void {
    this.check(node);
  }
}

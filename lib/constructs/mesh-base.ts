import { TerraformProvider } from 'cdktf';
import { IConstruct } from 'constructs';
import { ProxyKind } from '../manifest/types';
import { IntentionsMode } from './intentions-mode';
import type { MeshLogin } from './login';
import type { BeamNode } from './node';

/**
 * One allowed direction of distribution traffic: `from` may dial `to`.
 */
export interface MeshEdge {
  /** The node that dials. */
  readonly from: BeamNode;
  /** The node dialled. */
  readonly to: BeamNode;
}

/**
 * What is told of every node and connection added to a mesh (its intentions).
 * @internal
 */
export interface MeshTopologyListener {
  _nodeAdded(node: BeamNode): void;
  _edgeAdded(from: BeamNode, to: BeamNode): void;
}

/**
 * A mesh of BEAM nodes as its nodes and intentions see it: its settings and its resolved
 * connections. {@link BeamMesh} is the one implementation; nodes and intentions depend on this
 * interface rather than on the class, so the mesh is the only construct that knows them all.
 */
export interface IBeamMesh extends IConstruct {
  /** Name of the mesh. */
  readonly meshName: string;
  /** How intentions are written. */
  readonly intentionsMode: IntentionsMode;
  /** Whether a `*` deny intention guards every node. */
  readonly defaultDeny: boolean;
  /** Whether per-node ACL tokens are created. */
  readonly acl: boolean;
  /** KV prefix of the node manifests. */
  readonly kvPrefix: string;
  /** Default proxy kind of the nodes. */
  readonly proxy: ProxyKind;
  /** Datacenter of the resources, if set. */
  readonly datacenter?: string;
  /** Consul provider of the resources, if set. */
  readonly provider?: TerraformProvider;
  /** The auth method nodes log in with; undefined unless the mesh has `login`. */
  readonly login?: MeshLogin;
  /** The mesh's nodes, in the order they were added. */
  readonly nodes: BeamNode[];
  /** Every allowed direction, resolved now, sorted by node names. */
  readonly edges: MeshEdge[];
  /** The nodes `node` may dial, sorted by Erlang node name. */
  peersOf(node: BeamNode): BeamNode[];
  /** The nodes that may dial `node`, sorted by Erlang node name. */
  sourcesOf(node: BeamNode): BeamNode[];

  /** @internal changes whenever the nodes or connections change, for caches derived from them. */
  readonly _topologyVersion: number;
  /** @internal adds a node, after the node's own validation; fails on a clash with another node. */
  _register(node: BeamNode): void;
  /** @internal tells `listener` of every node and connection added from now on. */
  _track(listener: MeshTopologyListener): void;
}

import { TerraformProvider } from 'cdktf';
import { IConstruct } from 'constructs';
import { ProxyKind } from '../manifest/types';
import { IntentionsMode } from './intentions-mode';
import type { MeshLogin } from './login';
import type { BeamNode } from './node';
import type { BeamReplicas } from './replicas';
import type { ReplicaQueryTemplate } from './replica-query';

/**
 * What a mesh connects: a single node ({@link BeamNode}) or a replica group ({@link BeamReplicas}).
 * Connections, intentions and ACLs are per Consul service, so both are one member each.
 * @experimental added with replica groups; may change while they are
 */
export interface IMeshMember extends IConstruct {
  /** The mesh the member belongs to. */
  readonly mesh: IBeamMesh;
  /** Consul service name, unique in the mesh across nodes and groups. */
  readonly serviceName: string;
  /** Consul KV key of the member's manifest. */
  readonly kvKey: string;
  /** Alive part of the member's node name (before '@'); a group's replicas all share it. */
  readonly alive: string;
  /** Whether the member is a replica group (a {@link BeamReplicas}) rather than a single node. */
  readonly isGroup: boolean;
  /**
   * How the member is named in descriptions, errors and review: a node's Erlang node name, or
   * `<alive>@* (group <service>)` for a group.
   */
  readonly displayName: string;

  /** @internal fixed ports of the member, as [field, port]. */
  _fixedPorts(): Array<[string, number]>;
}

/**
 * One allowed direction of distribution traffic: `from` may dial `to`.
 */
export interface MeshEdge {
  /**
   * The member that dials.
   * @experimental a node or a replica group
   */
  readonly from: IMeshMember;
  /**
   * The member dialled; the same group as `from` when its replicas reach each other.
   * @experimental a node or a replica group
   */
  readonly to: IMeshMember;
}

/**
 * What is told of every member and connection added to a mesh (its intentions).
 * @internal
 */
export interface MeshTopologyListener {
  _nodeAdded(member: IMeshMember): void;
  _edgeAdded(from: IMeshMember, to: IMeshMember): void;
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
  /**
   * Who creates the mesh's prepared-query template for replica groups.
   * @experimental added with replica groups
   */
  readonly replicaQuery: ReplicaQueryTemplate;
  /** The mesh's single nodes, in the order they were added. */
  readonly nodes: BeamNode[];
  /**
   * The mesh's replica groups, in the order they were added.
   * @experimental added with replica groups
   */
  readonly groups: BeamReplicas[];
  /**
   * Every allowed direction, resolved now, sorted by display names.
   * @experimental members are nodes or replica groups
   */
  readonly edges: MeshEdge[];
  /**
   * The members `member` may dial, sorted by display name.
   * @experimental members are nodes or replica groups
   */
  peersOf(member: IMeshMember): IMeshMember[];
  /**
   * The members that may dial `member`, sorted by display name.
   * @experimental members are nodes or replica groups
   */
  sourcesOf(member: IMeshMember): IMeshMember[];

  /** @internal changes whenever the nodes or connections change, for caches derived from them. */
  readonly _topologyVersion: number;
  /** @internal adds a node or group, after its own validation; fails on a clash with another member. */
  _register(member: IMeshMember): void;
  /** @internal tells `listener` of every member and connection added from now on. */
  _track(listener: MeshTopologyListener): void;
}

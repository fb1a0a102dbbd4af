import { PreparedQuery } from '@cdktf/provider-consul/lib/prepared-query';
import { TerraformOutput, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { isServiceName } from '../manifest/names';
import { ProxyKind } from '../manifest/types';
import { attributeRef } from './attribute-ref';
import { checkCdkCopies } from './cdk-copies';
import { fail } from './errors';
import { MeshIntentions } from './intentions';
import { MemberClashIndex } from './member-clash';
import { IBeamMesh, IMeshMember, MeshEdge, MeshTopologyListener } from './mesh-base';
import { MeshLogin, MeshLoginProps } from './login';
import { IntentionsMode } from './intentions-mode';
import { BeamNode, BeamNodeProps } from './node';
import { ReplicaQueryTemplate } from './replica-query';
import { replicaQueryConfig } from './replica-query-config';
import { BeamReplicas, BeamReplicasProps } from './replicas';
import { SynthValue } from './synth-value';
import { checkLiteral } from './validation';

/**
 * Properties of a {@link BeamMesh}.
 */
export interface BeamMeshProps {
  /**
   * Name of the mesh: a lowercase DNS label. Prefixes the default service names and the KV path.
   */
  readonly name: string;
  /**
   * How intentions are written.
   * @default IntentionsMode.CONFIG_ENTRY
   */
  readonly intentionsMode?: IntentionsMode;
  /**
   * Add a `*` deny intention to every node, so only declared connections are allowed.
   * @default true
   */
  readonly defaultDeny?: boolean;
  /**
   * Create a least-privilege ACL token (and policy) per node.
   * @default true
   */
  readonly acl?: boolean;
  /**
   * Let nodes get their ACL token by logging in to a Consul auth method (`meshx-node run
   * --login-method`), instead of a static token copied to each host. Replaces the static tokens:
   * each node gets a role (its service identity plus read on its manifest key) that a login for
   * that node, and no other, receives. Needs `acl` on.
   * @default - static tokens (when `acl` is on)
   */
  readonly login?: MeshLoginProps;
  /**
   * KV prefix under which node manifests are written, as `<kvPrefix>/<mesh>/nodes/<service>`.
   * @default "meshx"
   */
  readonly kvPrefix?: string;
  /**
   * Proxy the runtime helper starts for each node.
   * @default ProxyKind.ENVOY
   */
  readonly proxy?: ProxyKind;
  /**
   * Datacenter for the intentions, KV entries and service identities.
   * @default - the provider's datacenter
   */
  readonly datacenter?: string;
  /**
   * Consul provider passed to every resource. The mesh never creates a provider itself.
   * @default - the stack's default Consul provider
   */
  readonly provider?: TerraformProvider;
  /**
   * Who creates the prepared-query template through which nodes reach one replica of a group
   * (only meshes with replica groups need it). `TERRAFORM`: a `consul_prepared_query` made with
   * the first group (Consul 1.9+; Terraform's token needs `query "meshx~<mesh>~" { policy = "write" }`).
   * `OPERATOR`: none in the stack; run `meshx-node mesh init --mesh <name>` once (Consul 1.8, whose
   * API refuses the provider's request).
   * @default - `ReplicaQueryTemplate.TERRAFORM` with `IntentionsMode.CONFIG_ENTRY`, `ReplicaQueryTemplate.OPERATOR` with `IntentionsMode.LEGACY`
   * @experimental added with replica groups
   */
  readonly replicaQuery?: ReplicaQueryTemplate;
}

/**
 * Options of {@link BeamMesh.connect}.
 */
export interface ConnectOptions {
  /**
   * Allow both directions (a may dial b, and b may dial a).
   * @default true
   */
  readonly bidirectional?: boolean;
}

const KV_PREFIX_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/**
 * A mesh of BEAM nodes on Consul Connect.
 *
 * Per node, and per replica group, it emits a `service-defaults` entry (protocol `tcp`), the
 * service's intentions, an ACL token with its service identity (when `acl` is on), and its
 * manifest in Consul KV; with groups, also the prepared-query template that reaches one
 * replica. Every resource is created as soon as it is known (a member, a connection); what
 * depends on the whole mesh (manifests, intention sources) is resolved lazily at synth, so
 * `connectAll()` includes members added later and no aspect has to run. That keeps the output
 * whole whichever copy of cdktf or CDK Terrain synthesizes the app.
 */
export class BeamMesh extends Construct implements IBeamMesh {
  /** Returns whether `x` is a BeamMesh. */
  public static isBeamMesh(x: any): x is BeamMesh {
    return x !== null && typeof x === 'object' && BEAM_MESH_SYMBOL in x;
  }

  /** Name of the mesh. */
  public readonly meshName: string;
  /** How intentions are written. */
  public readonly intentionsMode: IntentionsMode;
  /** Whether a `*` deny intention guards every node. */
  public readonly defaultDeny: boolean;
  /** Whether per-node ACL tokens are created. */
  public readonly acl: boolean;
  /** KV prefix of the node manifests. */
  public readonly kvPrefix: string;
  /** The auth method nodes log in with; undefined unless `login` is set. */
  public readonly login?: MeshLogin;
  /** The output naming, per service, what an operator needs to boot each node (never a secret). */
  public readonly nodesOutput: TerraformOutput;
  /** Default proxy kind of the nodes. */
  public readonly proxy: ProxyKind;
  /** Datacenter of the resources, if set. */
  public readonly datacenter?: string;
  /** Consul provider of the resources, if set. */
  public readonly provider?: TerraformProvider;
  /**
   * Who creates the prepared-query template of the mesh's replica groups.
   * @experimental added with replica groups
   */
  public readonly replicaQuery: ReplicaQueryTemplate;

  private readonly _nodes: BeamNode[] = [];
  private readonly _groups: BeamReplicas[] = [];
  /** Nodes and groups in the order they were added: intentions are created in this order. */
  private readonly _added: IMeshMember[] = [];
  private readonly _edges = new Map<IMeshMember, Set<IMeshMember>>();
  private readonly _listeners: MeshTopologyListener[] = [];
  private readonly _clashes = new MemberClashIndex();
  private _connectAll = false;
  private _index?: MeshIndex;
  private _version = 0;
  private _preparedQuery?: PreparedQuery;

  constructor(scope: Construct, id: string, props: BeamMeshProps) {
    super(scope, id);
    Object.defineProperty(this, BEAM_MESH_SYMBOL, { value: true });
    checkCdkCopies(this);
    checkLiteral(this, 'name', props.name);
    if (!isServiceName(props.name)) {
      fail(this, `mesh name '${props.name}' must be a lowercase DNS label: a-z, 0-9 and '-', at most 63 characters, not starting or ending with '-'`);
    }
    const kvPrefix = props.kvPrefix ?? 'meshx';
    checkLiteral(this, 'kvPrefix', kvPrefix);
    if (!KV_PREFIX_RE.test(kvPrefix)) {
      fail(this, `kvPrefix '${kvPrefix}' must be '/'-separated segments of A-Z, a-z, 0-9, '_', '.', '-' without leading or trailing '/'`);
    }
    if (props.datacenter !== undefined) checkLiteral(this, 'datacenter', props.datacenter);
    this.meshName = props.name;
    this.intentionsMode = props.intentionsMode ?? IntentionsMode.CONFIG_ENTRY;
    this.defaultDeny = props.defaultDeny ?? true;
    this.acl = props.acl ?? true;
    this.kvPrefix = kvPrefix;
    this.proxy = props.proxy ?? ProxyKind.ENVOY;
    this.datacenter = props.datacenter;
    this.provider = props.provider;
    this.replicaQuery = props.replicaQuery
      ?? (this.intentionsMode === IntentionsMode.LEGACY ? ReplicaQueryTemplate.OPERATOR : ReplicaQueryTemplate.TERRAFORM);
    if (props.login !== undefined) {
      if (!this.acl) fail(this, 'login needs acl: a login hands out ACL tokens; drop acl: false or login');
      this.login = new MeshLogin(this, 'Login', { ...props.login, meshName: this.meshName, provider: this.provider });
    }
    this.nodesOutput = new TerraformOutput(this, 'Nodes', {
      description: this.login
        ? `meshx-node mesh '${this.meshName}': per service, the Erlang node, its manifest key, and the auth method and role a login for it gets`
        : `meshx-node mesh '${this.meshName}': per service, the Erlang node, its manifest key and its token's accessor ID `
          + '(read the token where the node boots)',
      // Resolved once, at synth: cdktf's preparing pass gets a placeholder (the references it
      // would find are all in this stack) instead of a fresh reference per node, each capturing a stack trace.
      value: new SynthValue(() => this.outputValue(), {}),
    });
    new MeshIntentions(this, 'Intentions', { mesh: this });
  }

  /** Adds a BEAM node to the mesh. */
  public addNode(id: string, props: BeamNodeProps): BeamNode {
    return new BeamNode(this, id, props);
  }

  /**
   * Adds a replica group: any number of BEAM nodes `<alive>@<host>` sharing one Consul service,
   * its intentions, its ACL identity and one manifest; which replicas run comes from the catalog.
   * @experimental added with replica groups
   */
  public addReplicas(id: string, props: BeamReplicasProps): BeamReplicas {
    return new BeamReplicas(this, id, props);
  }

  /**
   * Allows `from` to dial `to` (and `to` to dial `from` unless `bidirectional` is false): an
   * upstream (or, to a group, a peer group) in the dialling member's manifest and an allow
   * intention on the dialled member's service. Each may be a node or a replica group.
   * @experimental members are nodes or replica groups
   */
  public connect(from: IMeshMember, to: IMeshMember, options: ConnectOptions = {}): void {
    this.checkMember(from);
    this.checkMember(to);
    if (from === to) {
      if (from.isGroup) {
        fail(this, `cannot connect group '${from.displayName}' (${from.node.path}) to itself: `
          + 'its replicas reach each other unless it has connectReplicas: false');
      }
      fail(this, `cannot connect node '${from.displayName}' (${from.node.path}) to itself`);
    }
    this.addEdge(from, to);
    if (options.bidirectional ?? true) this.addEdge(to, from);
  }

  /**
   * Connects every pair of the mesh's members (nodes and groups), both ways; resolved at synth,
   * so later members are included.
   * @experimental members are nodes or replica groups
   */
  public connectAll(): void {
    if (this._connectAll) return;
    this._connectAll = true;
    this.changed();
    for (const from of this._added) {
      for (const to of this._added) if (from !== to) this.edgeAdded(from, to);
    }
  }

  /** The mesh's single nodes, in the order they were added. */
  public get nodes(): BeamNode[] {
    return [...this._nodes];
  }

  /**
   * The mesh's replica groups, in the order they were added.
   * @experimental added with replica groups
   */
  public get groups(): BeamReplicas[] {
    return [...this._groups];
  }

  /**
   * The mesh's nodes and groups, sorted by display name.
   * @experimental added with replica groups
   */
  public get members(): IMeshMember[] {
    return [...this._added].sort(byDisplayName);
  }

  /**
   * The mesh's prepared-query template for replica groups: made with the first group when
   * `replicaQuery` is `TERRAFORM`, else undefined.
   * @experimental added with replica groups
   */
  public get preparedQuery(): PreparedQuery | undefined {
    return this._preparedQuery;
  }

  /**
   * Every allowed direction, resolved now (including `connectAll()` and groups reaching
   * themselves), sorted by display names.
   * @experimental members are nodes or replica groups
   */
  public get edges(): MeshEdge[] {
    const out: MeshEdge[] = [];
    for (const from of this.members) {
      for (const to of this.peersOf(from)) out.push({ from, to });
    }
    return out;
  }

  /**
   * The members `member` may dial, sorted by display name (a group with `connectReplicas` is
   * its own peer).
   * @experimental members are nodes or replica groups
   */
  public peersOf(member: IMeshMember): IMeshMember[] {
    return [...(this.index().peers.get(member) ?? [])];
  }

  /**
   * The members that may dial `member`, sorted by display name.
   * @experimental members are nodes or replica groups
   */
  public sourcesOf(member: IMeshMember): IMeshMember[] {
    return [...(this.index().sources.get(member) ?? [])];
  }

  /** Resolved adjacency, rebuilt only after the mesh changed: linear in the edges. */
  private index(): MeshIndex {
    if (this._index) return this._index;
    const sorted = this.members;
    const peers = new Map<IMeshMember, IMeshMember[]>();
    const sources = new Map<IMeshMember, IMeshMember[]>(sorted.map((n) => [n, []]));
    for (const from of sorted) {
      const declared = this._edges.get(from);
      const to = sorted.filter((n) => (n === from ? reachesItself(from) : this._connectAll || declared?.has(n)));
      peers.set(from, to);
      for (const t of to) sources.get(t)!.push(from);
    }
    this._index = { peers, sources };
    return this._index;
  }

  /**
   * A counter that changes whenever the nodes or connections change, for caches of what is
   * derived from them.
   * @internal
   */
  public get _topologyVersion(): number {
    return this._version;
  }

  /** @internal called by MeshIntentions' constructor: it is told of every member and connection. */
  public _track(listener: MeshTopologyListener): void {
    this._listeners.push(listener);
  }

  /** @internal called by BeamNode's and BeamReplicas' constructors, after their own validation. */
  public _register(member: IMeshMember): void {
    this._clashes.check(member);
    this._clashes.add(member);
    if (member.isGroup) {
      this._groups.push(member as BeamReplicas);
      if (this.replicaQuery === ReplicaQueryTemplate.TERRAFORM) {
        this._preparedQuery ??= new PreparedQuery(this, 'ReplicaQuery', replicaQueryConfig(this));
      }
    } else {
      this._nodes.push(member as BeamNode);
    }
    this._added.push(member);
    this.changed();
    for (const l of this._listeners) l._nodeAdded(member);
    if (reachesItself(member)) this.edgeAdded(member, member);
    if (this._connectAll) {
      for (const other of this._added) {
        if (other === member) continue;
        this.edgeAdded(other, member);
        this.edgeAdded(member, other);
      }
    }
  }

  private outputValue(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const m of this.members) {
      const v: Record<string, string> = m.isGroup ? { alive: m.alive, kv_key: m.kvKey } : { node: m.displayName, kv_key: m.kvKey };
      const { token, role } = m as BeamNode | BeamReplicas;
      if (token) v.token_accessor = attributeRef(token, 'accessor_id');
      if (this.login && role) {
        v.auth_method = attributeRef(this.login.authMethod, 'name');
        v.role = attributeRef(role, 'name');
      }
      out[m.serviceName] = v;
    }
    return out;
  }

  private addEdge(from: IMeshMember, to: IMeshMember): void {
    let set = this._edges.get(from);
    if (!set) this._edges.set(from, (set = new Set()));
    if (set.has(to)) return;
    set.add(to);
    this.changed();
    this.edgeAdded(from, to);
  }

  private edgeAdded(from: IMeshMember, to: IMeshMember): void {
    for (const l of this._listeners) l._edgeAdded(from, to);
  }

  private changed(): void {
    this._index = undefined;
    this._version++;
  }

  private checkMember(n: IMeshMember): void {
    if (n.mesh === this) return;
    const kind = n.isGroup ? 'group' : 'node';
    fail(this, `${kind} ${n.node.path} belongs to mesh '${n.mesh.meshName}' (${n.mesh.node.path}), not to '${this.meshName}'; `
      + 'nodes of different meshes cannot be connected');
  }
}

const BEAM_MESH_SYMBOL = Symbol.for('meshx-node.BeamMesh');

interface MeshIndex {
  readonly peers: Map<IMeshMember, IMeshMember[]>;
  readonly sources: Map<IMeshMember, IMeshMember[]>;
}

/** A group whose replicas may dial each other: its own peer (an `svc -> svc` allow). */
function reachesItself(m: IMeshMember): boolean {
  return m.isGroup && (m as BeamReplicas).connectReplicas;
}

/** By display name: a node's Erlang node name, so single-node meshes keep their order. */
function byDisplayName(a: IMeshMember, b: IMeshMember): number {
  return a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0;
}

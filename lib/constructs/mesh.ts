import { Lazy, TerraformOutput, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { isServiceName } from '../manifest/names';
import { ProxyKind } from '../manifest/types';
import { checkCdkCopies } from './cdk-copies';
import { fail } from './errors';
import { MeshIntentions } from './intentions';
import { IBeamMesh, MeshEdge, MeshTopologyListener } from './mesh-base';
import { MeshLogin, MeshLoginProps } from './login';
import { IntentionsMode } from './intentions-mode';
import { BeamNode, BeamNodeProps } from './node';
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
 * Per node it emits a `service-defaults` entry (protocol `tcp`), the node's intentions, an
 * ACL token with the node's service identity (when `acl` is on), and the node manifest in
 * Consul KV. Every resource is created as soon as it is known (a node, a connection); what
 * depends on the whole mesh (manifests, intention sources) is resolved lazily at synth, so
 * `connectAll()` includes nodes added later and no aspect has to run. That keeps the output
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

  private readonly _nodes: BeamNode[] = [];
  private readonly _edges = new Map<BeamNode, Set<BeamNode>>();
  private readonly _listeners: MeshTopologyListener[] = [];
  private _connectAll = false;
  private _index?: { peers: Map<BeamNode, BeamNode[]>; sources: Map<BeamNode, BeamNode[]> };
  private _version = 0;

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
    if (props.login !== undefined) {
      if (!this.acl) fail(this, 'login needs acl: a login hands out ACL tokens; drop acl: false or login');
      this.login = new MeshLogin(this, 'Login', { ...props.login, meshName: this.meshName, provider: this.provider });
    }
    this.nodesOutput = new TerraformOutput(this, 'Nodes', {
      description: this.login
        ? `meshx-node mesh '${this.meshName}': per service, the Erlang node, its manifest key, and the auth method and role a login for it gets`
        : `meshx-node mesh '${this.meshName}': per service, the Erlang node, its manifest key and its token's accessor ID `
          + '(read the token where the node boots)',
      value: Lazy.anyValue({ produce: () => this.outputValue() }),
    });
    new MeshIntentions(this, 'Intentions', { mesh: this });
  }

  /** Adds a BEAM node to the mesh. */
  public addNode(id: string, props: BeamNodeProps): BeamNode {
    return new BeamNode(this, id, props);
  }

  /**
   * Allows `from` to dial `to` (and `to` to dial `from` unless `bidirectional` is false): an
   * upstream on the dialling node's sidecar and an allow intention on the dialled node.
   * @experimental replica groups (a later version) will be connectable here too
   */
  public connect(from: BeamNode, to: BeamNode, options: ConnectOptions = {}): void {
    this.checkMember(from);
    this.checkMember(to);
    if (from === to) fail(this, `cannot connect node '${from.nodeName}' (${from.node.path}) to itself`);
    this.addEdge(from, to);
    if (options.bidirectional ?? true) this.addEdge(to, from);
  }

  /**
   * Connects every pair of the mesh's nodes, both ways; resolved at synth, so later nodes are included.
   * @experimental replica groups (a later version) will be included too
   */
  public connectAll(): void {
    if (this._connectAll) return;
    this._connectAll = true;
    this.changed();
    for (const from of this._nodes) {
      for (const to of this._nodes) if (from !== to) this.edgeAdded(from, to);
    }
  }

  /** The mesh's nodes, in the order they were added. */
  public get nodes(): BeamNode[] {
    return [...this._nodes];
  }

  /** Every allowed direction, resolved now (including `connectAll()`), sorted by node names. */
  public get edges(): MeshEdge[] {
    const out: MeshEdge[] = [];
    for (const from of this.sortedNodes()) {
      for (const to of this.peersOf(from)) out.push({ from, to });
    }
    return out;
  }

  /** The nodes `node` may dial, sorted by Erlang node name. */
  public peersOf(node: BeamNode): BeamNode[] {
    return [...(this.index().peers.get(node) ?? [])];
  }

  /** The nodes that may dial `node`, sorted by Erlang node name. */
  public sourcesOf(node: BeamNode): BeamNode[] {
    return [...(this.index().sources.get(node) ?? [])];
  }

  /** Resolved adjacency, rebuilt only after the mesh changed: linear in the edges. */
  private index(): { peers: Map<BeamNode, BeamNode[]>; sources: Map<BeamNode, BeamNode[]> } {
    if (this._index) return this._index;
    const sorted = this.sortedNodes();
    const peers = new Map<BeamNode, BeamNode[]>();
    const sources = new Map<BeamNode, BeamNode[]>(sorted.map((n) => [n, []]));
    for (const from of sorted) {
      const to = this._connectAll ? sorted.filter((n) => n !== from) : sorted.filter((n) => this._edges.get(from)?.has(n));
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

  /** @internal called by MeshIntentions' constructor: it is told of every node and connection. */
  public _track(listener: MeshTopologyListener): void {
    this._listeners.push(listener);
  }

  /** @internal called by BeamNode's constructor, after its own validation. */
  public _register(node: BeamNode): void {
    for (const other of this._nodes) {
      if (other.nodeName === node.nodeName) fail(node, `node name '${node.nodeName}' is already used by ${other.node.path}`);
      if (other.serviceName === node.serviceName) fail(node, `service name '${node.serviceName}' is already used by ${other.node.path}`);
      if (other.host === node.host) {
        for (const [field, port] of node._fixedPorts()) {
          for (const [otherField, otherPort] of other._fixedPorts()) {
            if (port === otherPort) fail(node, `${field} ${port} clashes with ${otherField} of ${other.node.path} on the same host '${node.host}'`);
          }
        }
      }
    }
    this._nodes.push(node);
    this.changed();
    for (const l of this._listeners) l._nodeAdded(node);
    if (this._connectAll) {
      for (const other of this._nodes) {
        if (other === node) continue;
        this.edgeAdded(other, node);
        this.edgeAdded(node, other);
      }
    }
  }

  private outputValue(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const n of this.sortedNodes()) {
      const v: Record<string, string> = { node: n.nodeName, kv_key: n.kvKey };
      if (n.token) v.token_accessor = n.token.accessorId;
      if (this.login && n.role) {
        v.auth_method = this.login.authMethod.name;
        v.role = n.role.name;
      }
      out[n.serviceName] = v;
    }
    return out;
  }

  private addEdge(from: BeamNode, to: BeamNode): void {
    let set = this._edges.get(from);
    if (!set) this._edges.set(from, (set = new Set()));
    if (set.has(to)) return;
    set.add(to);
    this.changed();
    this.edgeAdded(from, to);
  }

  private edgeAdded(from: BeamNode, to: BeamNode): void {
    for (const l of this._listeners) l._edgeAdded(from, to);
  }

  private changed(): void {
    this._index = undefined;
    this._version++;
  }

  private checkMember(n: BeamNode): void {
    if (n.mesh === this) return;
    fail(this, `node ${n.node.path} belongs to mesh '${n.mesh.meshName}' (${n.mesh.node.path}), not to '${this.meshName}'; `
      + 'nodes of different meshes cannot be connected');
  }

  private sortedNodes(): BeamNode[] {
    return [...this._nodes].sort(byNodeName);
  }
}

const BEAM_MESH_SYMBOL = Symbol.for('meshx-node.BeamMesh');

function byNodeName(a: BeamNode, b: BeamNode): number {
  return a.nodeName < b.nodeName ? -1 : a.nodeName > b.nodeName ? 1 : 0;
}

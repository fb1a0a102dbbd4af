/**
 * The kind of sidecar proxy the runtime helper starts for a node.
 */
export enum ProxyKind {
  /** Envoy, through `consul connect envoy` (production). */
  ENVOY = 'envoy',
  /** Consul's built-in L4 proxy, through `consul connect proxy` (development, tests). */
  BUILTIN = 'builtin',
}

/** The manifest `apiVersion` this package writes and reads. */
export const MANIFEST_API_VERSION = 'meshx-node/v1';

/**
 * The Consul service of one BEAM node, as the runtime helper registers it.
 */
export interface ManifestService {
  /** Consul service ID (lowercase DNS label). */
  readonly id: string;
  /** Consul service name (lowercase DNS label, unique in the mesh). */
  readonly name: string;
  /** Service tags. */
  readonly tags: string[];
  /** Service meta; always carries `erlang_node` and `meshx_mesh`. */
  readonly meta: Record<string, string>;
  /** Distribution listen port on 127.0.0.1; 0 = pick a free port at boot. */
  readonly distPort: number;
  /** TTL of the health check the helper keeps passing while the BEAM is registered, e.g. `15s`. */
  readonly ttl: string;
  /** How long the check may stay critical before the agent reaps the service, e.g. `1m`. */
  readonly deregisterCriticalAfter: string;
}

/**
 * The sidecar proxy of one BEAM node.
 */
export interface ManifestSidecar {
  /** Public (mTLS) port of the sidecar; 0 = let the agent assign one from its sidecar range. */
  readonly port: number;
  /** Which proxy the helper starts. */
  readonly proxy: ProxyKind;
}

/**
 * One peer of a node, reached through the node's sidecar.
 */
export interface ManifestUpstream {
  /** Full Erlang node name of the peer, e.g. `app@h2.example`. */
  readonly node: string;
  /** Consul service name of the peer. */
  readonly service: string;
  /** Loopback address the upstream listens on; one per distinct peer host (127.0.0.1 for the node's own host). */
  readonly address: string;
  /** Local port of the upstream listener; 0 = pick a free port at boot. */
  readonly port: number;
  /**
   * Datacenter of the peer.
   * @default - the local datacenter
   */
  readonly datacenter?: string;
}

/**
 * Node manifest v1: everything the runtime helper needs to put one BEAM node on the mesh.
 * Plain JSON with no Terraform references, so it can be read from Consul KV, a file, or the
 * synthesized `cdk.tf.json`.
 */
export interface NodeManifest {
  /** Always `meshx-node/v1`. */
  readonly apiVersion: string;
  /** Name of the mesh the node belongs to. */
  readonly mesh: string;
  /** Full Erlang node name, e.g. `orders@api-1.internal`. */
  readonly node: string;
  /** The node's Consul service. */
  readonly service: ManifestService;
  /** The node's sidecar proxy. */
  readonly sidecar: ManifestSidecar;
  /** The peers this node may dial, sorted by node name. */
  readonly upstreams: ManifestUpstream[];
  /** Port of the helper's EPMD server on every loopback address; 0 = pick a free port at boot. */
  readonly epmdPort: number;
}

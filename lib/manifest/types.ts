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
  /**
   * The sidecar registration's `Proxy.Config`, copied as is: what the proxy reads (Envoy's
   * `envoy_prometheus_bind_addr`, the built-in proxy's `handshake_timeout_ms`, …). Keys the
   * helper owns (`bind_address`, `bind_port`, `local_service_address`, `protocol`, …) are refused.
   * @default - none (the field is left out)
   */
  readonly config?: { [key: string]: any };
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
 * A replica group a member may dial: each passing instance of `service` is one peer, reached
 * through the mesh's prepared-query template (`query` + `<service>~<node>`).
 */
export interface ManifestPeerGroup {
  /** Consul service name of the group. */
  readonly service: string;
  /** Name of the mesh's prepared-query template, `meshx~<mesh>~`. */
  readonly query: string;
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
  /**
   * The replica groups this node may dial, sorted by service; their members come from the catalog.
   * @default - none (the field is left out)
   */
  readonly peerGroups?: ManifestPeerGroup[];
  /** Port of the helper's EPMD server on every loopback address; 0 = pick a free port at boot. */
  readonly epmdPort: number;
}

/** What names a replica group's members: each is `<alive>@<its host>`. */
export interface ManifestGroup {
  /** The part of every member's node name before `@`. */
  readonly alive: string;
}

/** The Consul service of a replica group: a node's, less the per-instance ID (chosen at boot). */
export interface ManifestGroupService {
  /** Consul service name (lowercase DNS label, unique in the mesh). */
  readonly name: string;
  readonly tags: string[];
  /** Service meta; carries `meshx_mesh`, never `erlang_node` (each replica adds its own). */
  readonly meta: Record<string, string>;
  readonly distPort: number;
  readonly ttl: string;
  readonly deregisterCriticalAfter: string;
}

/**
 * Group manifest v1: one manifest for every replica of a group. Each replica's helper turns it
 * into its own node manifest (resolveReplica): node name, service ID and `erlang_node` meta.
 */
export interface GroupManifest {
  /** Always `meshx-node/v1`. */
  readonly apiVersion: string;
  readonly mesh: string;
  readonly group: ManifestGroup;
  /** The group's service; its meta never carries `erlang_node` (each replica adds its own). */
  readonly service: ManifestGroupService;
  readonly sidecar: ManifestSidecar;
  /** The single nodes the members may dial (addresses as for a node; a peer on a member's own host moves to 127.0.0.1). */
  readonly upstreams: ManifestUpstream[];
  /** The groups the members may dial, the own group included when its replicas reach each other. */
  readonly peerGroups: ManifestPeerGroup[];
  readonly epmdPort: number;
}

/** Either kind of manifest, as read from KV, a file or synthesized output. */
export type AnyManifest = NodeManifest | GroupManifest;

export function isGroupManifest(m: AnyManifest): m is GroupManifest {
  return (m as GroupManifest).group !== undefined;
}

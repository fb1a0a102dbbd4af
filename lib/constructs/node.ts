import { AclRole } from '@cdktf/provider-consul/lib/acl-role';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Construct } from 'constructs';
import { MANIFEST_API_VERSION, NodeManifest, ProxyKind } from '../manifest/types';
import { NodeAcl } from './acl';
import { sameStackRef } from './attribute-ref';
import { fail } from './errors';
import { manifestPeers } from './member-manifest';
import { checkNodeManifest } from './node-manifest-check';
import type { IBeamMesh, IMeshMember } from './mesh-base';
import { ManifestKey } from './manifest-key';
import { SynthValue } from './synth-value';
import { fixedPorts, validateNodeProps, ValidNode } from './validate-node-props';

/**
 * Properties of a {@link BeamNode}.
 */
export interface BeamNodeProps {
  /** Full Erlang node name, `alive@host`, e.g. `orders@api-1.internal` (`--name`) or `orders@api-1` (`--sname`). */
  readonly nodeName: string;
  /**
   * Consul service name (and ID) of the node: a lowercase DNS label, unique in the mesh.
   * @default - `<mesh name>-<construct id>`, lowercased, other characters turned into '-'
   */
  readonly serviceName?: string;
  /**
   * Distribution listen port on 127.0.0.1.
   * @default 0 - the runtime helper picks a free port at boot
   */
  readonly distPort?: number;
  /**
   * Public (mTLS) port of the node's sidecar.
   * @default 0 - the Consul agent assigns one from its sidecar range (21000-21255)
   */
  readonly sidecarPort?: number;
  /**
   * Port of the helper's EPMD server (what the BEAM gets as `ERL_EPMD_PORT`).
   * @default 0 - the runtime helper picks a free port at boot
   */
  readonly epmdPort?: number;
  /**
   * Consul service tags.
   * @default - none
   */
  readonly tags?: string[];
  /**
   * Consul service meta; `erlang_node` and `meshx_mesh` are set by the library.
   * @default - none
   */
  readonly meta?: Record<string, string>;
  /**
   * Proxy the runtime helper starts for this node.
   * @default - the mesh's proxy
   */
  readonly proxy?: ProxyKind;
  /**
   * The sidecar's proxy config: copied into the manifest, and by the runtime helper into the
   * sidecar registration's `Proxy.Config`, e.g. `{ envoy_prometheus_bind_addr: '0.0.0.0:9102' }`
   * for Envoy or `{ handshake_timeout_ms: 5000 }` for the built-in proxy. JSON values only, no
   * Terraform references; keys the helper owns (`bind_address`, `bind_port`,
   * `local_service_address`, `protocol`, `envoy_public_listener_json`, `envoy_local_cluster_json`)
   * fail at synth. It is stored in Consul KV as part of the manifest: no secrets.
   * @default - none: the proxy's own defaults
   */
  readonly proxyConfig?: { [key: string]: any };
  /**
   * TTL of the node's health check. The helper sets the check as its BEAM and proxy come and go
   * and refreshes it at a third of the TTL (at most every 10 minutes), so the TTL bounds only how
   * long a helper that hangs, its processes still running, keeps the node passing; a dead helper
   * is caught within 10 s by the agent's TCP check on the sidecar. A shorter TTL wakes an idle
   * helper more often.
   * @default "5m"
   */
  readonly ttl?: string;
  /**
   * How long the node's check may stay critical before the agent removes the service (Consul's minimum is 1m).
   * @default "1m"
   */
  readonly deregisterCriticalAfter?: string;
}

/**
 * One BEAM node of a {@link BeamMesh}: its Consul service, sidecar, ACL token and manifest.
 * Create it with `mesh.addNode()`.
 */
export class BeamNode extends Construct implements IMeshMember {
  /** Always false: a single node, not a replica group. */
  public readonly isGroup: boolean = false;
  /** The mesh this node belongs to. */
  public readonly mesh: IBeamMesh;
  /** Full Erlang node name. */
  public readonly nodeName: string;
  /** Alive part of the node name (before '@'). */
  public readonly alive: string;
  /** Host part of the node name (after '@'). */
  public readonly host: string;
  /** Consul service name and ID. */
  public readonly serviceName: string;
  /** How the node is named in descriptions and review: its Erlang node name. */
  public readonly displayName: string;
  /** Consul KV key of the node manifest. */
  public readonly kvKey: string;
  /** Proxy kind of the node. */
  public readonly proxy: ProxyKind;
  /** The node's ACL token (no secret is synthesized); undefined when the mesh has `acl: false` or `login`. */
  public readonly token?: AclToken;
  /** The ACL role a login for this node receives; only when the mesh has `login`. */
  public readonly role?: AclRole;
  /** The `service-defaults` config entry (protocol tcp). */
  public readonly serviceDefaults: ConfigEntry;
  /** The node manifest in Consul KV, resolved at synth from the mesh's connections. */
  public readonly manifestKey: ManifestKey;

  private readonly valid: ValidNode;
  private validated?: { readonly version: number; readonly manifest: NodeManifest };

  constructor(mesh: IBeamMesh, id: string, props: BeamNodeProps) {
    super(mesh, id);
    this.mesh = mesh;
    this.valid = validateNodeProps(this, mesh.meshName, id, props);
    ({ nodeName: this.nodeName, alive: this.alive, host: this.host, serviceName: this.serviceName } = this.valid);
    this.displayName = this.nodeName;
    this.proxy = props.proxy ?? mesh.proxy;
    this.kvKey = `${mesh.kvPrefix}/${mesh.meshName}/nodes/${this.serviceName}`;

    mesh._register(this);

    // Distribution is raw TCP: pin the protocol so a global `http` default cannot break it.
    this.serviceDefaults = new ConfigEntry(this, 'ServiceDefaults', {
      kind: 'service-defaults',
      name: this.serviceName,
      configJson: JSON.stringify({ Protocol: 'tcp' }),
      provider: mesh.provider,
    });
    if (mesh.acl) {
      const acl = new NodeAcl(this, 'Acl', {
        serviceName: this.serviceName,
        nodeName: this.nodeName,
        kvKey: this.kvKey,
        proxy: this.proxy,
        datacenter: mesh.datacenter,
        authMethod: mesh.login && sameStackRef(mesh.login.authMethod, 'name'),
        provider: mesh.provider,
      });
      this.token = acl.token;
      this.role = acl.role;
    }
    // Known only once the mesh's connections are: resolved at synth, validated there.
    this.manifestKey = new ManifestKey(this, 'Manifest', {
      key: this.kvKey,
      manifest: new SynthValue(() => this.validatedManifest(), {}),
      datacenter: mesh.datacenter,
      provider: mesh.provider,
    });
  }

  /**
   * The members (nodes and groups) this node may dial, sorted by display name.
   * @experimental members are nodes or replica groups
   */
  public get peers(): IMeshMember[] {
    return this.mesh.peersOf(this);
  }

  /**
   * The node manifest (v1), computed from the mesh's current connections. `peerGroups` is set
   * only when the node may dial a replica group.
   */
  public get manifest(): NodeManifest {
    const { upstreams, peerGroups } = manifestPeers(this, this.peers, this.nodeName);
    return {
      apiVersion: MANIFEST_API_VERSION,
      mesh: this.mesh.meshName,
      node: this.nodeName,
      service: {
        id: this.serviceName,
        name: this.serviceName,
        tags: [...this.valid.tags],
        meta: { ...this.valid.meta, erlang_node: this.nodeName, meshx_mesh: this.mesh.meshName },
        distPort: this.valid.distPort,
        ttl: this.valid.ttl,
        deregisterCriticalAfter: this.valid.deregisterCriticalAfter,
      },
      // config left out when none, so manifests without it stay as they were.
      sidecar: { port: this.valid.sidecarPort, proxy: this.proxy, ...(this.valid.proxyConfig ? { config: this.valid.proxyConfig } : {}) },
      upstreams,
      // Left out without groups, so a single-node mesh's manifests stay as they were.
      ...(peerGroups.length > 0 ? { peerGroups } : {}),
      epmdPort: this.valid.epmdPort,
    };
  }

  /** @internal fixed ports of this node, as [field, port]. */
  public _fixedPorts(): Array<[string, number]> {
    return fixedPorts(this.valid);
  }

  /** The manifest as synthesized, checked (see checkNodeManifest); computed once per mesh change. */
  private validatedManifest(): NodeManifest {
    const version = this.mesh._topologyVersion;
    if (this.validated?.version === version) return this.validated.manifest;
    const manifest = this.manifest;
    try {
      checkNodeManifest(this.mesh, manifest);
    } catch (e) {
      fail(this, (e as Error).message);
    }
    this.validated = { version, manifest };
    return manifest;
  }
}

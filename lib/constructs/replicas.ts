import { AclRole } from '@cdktf/provider-consul/lib/acl-role';
import { AclToken } from '@cdktf/provider-consul/lib/acl-token';
import { ConfigEntry } from '@cdktf/provider-consul/lib/config-entry';
import { Construct } from 'constructs';
import { GroupManifest, MANIFEST_API_VERSION, ProxyKind } from '../manifest/types';
import { validateAsJson, validateGroupManifest } from '../manifest/validate';
import { NodeAcl } from './acl';
import { sameStackRef } from './attribute-ref';
import { fail } from './errors';
import { manifestPeers, withoutPeers } from './member-manifest';
import type { IBeamMesh, IMeshMember } from './mesh-base';
import { ManifestKey } from './manifest-key';
import { SynthValue } from './synth-value';
import { fixedPorts, ValidGroup, validateReplicasProps } from './validate-node-props';

/**
 * Properties of a {@link BeamReplicas}.
 * @experimental added with replica groups
 */
export interface BeamReplicasProps {
  /**
   * The part of every replica's node name before `@` (A-Z, a-z, 0-9, '_', '-'): a replica on
   * host `api-1.internal` is `<alive>@api-1.internal`. Unique in the mesh across nodes and groups.
   */
  readonly alive: string;
  /**
   * Consul service name of the group, shared by every replica: a lowercase DNS label, unique in the mesh.
   * @default - `<mesh name>-<construct id>`, lowercased, other characters turned into '-'
   */
  readonly serviceName?: string;
  /**
   * Distribution listen port on 127.0.0.1 of each replica's host; a fixed port allows one replica per host.
   * @default 0 - each replica's helper picks a free port at boot
   */
  readonly distPort?: number;
  /**
   * Port of each replica's EPMD server (`ERL_EPMD_PORT`); a fixed port allows one replica per host.
   * @default 0 - each replica's helper picks a free port at boot
   */
  readonly epmdPort?: number;
  /**
   * Consul service tags of every replica.
   * @default - none
   */
  readonly tags?: string[];
  /**
   * Consul service meta of every replica; `erlang_node` (per replica) and `meshx_mesh` are set by the library.
   * @default - none
   */
  readonly meta?: Record<string, string>;
  /**
   * Proxy the runtime helper starts for each replica.
   * @default - the mesh's proxy
   */
  readonly proxy?: ProxyKind;
  /**
   * Every replica's sidecar proxy config (see `BeamNodeProps.proxyConfig`): copied into the manifest, and by the runtime helper into the
   * sidecar registration's `Proxy.Config`, e.g. `{ envoy_prometheus_bind_addr: '0.0.0.0:9102' }`
   * for Envoy or `{ handshake_timeout_ms: 5000 }` for the built-in proxy. JSON values only, no
   * Terraform references; keys the helper owns (`bind_address`, `bind_port`,
   * `local_service_address`, `protocol`, `envoy_public_listener_json`, `envoy_local_cluster_json`)
   * fail at synth. It is stored in Consul KV as part of the manifest: no secrets.
   * @default - none: the proxy's own defaults
   */
  readonly proxyConfig?: { [key: string]: any };
  /**
   * TTL of each replica's health check (see `BeamNodeProps.ttl`).
   * @default "5m"
   */
  readonly ttl?: string;
  /**
   * How long a replica's check may stay critical before its agent removes it (Consul's minimum is 1m).
   * @default "1m"
   */
  readonly deregisterCriticalAfter?: string;
  /**
   * Whether the replicas may dial each other: an allow intention from the group's service to
   * itself, and the group among its own peer groups.
   * @default true
   */
  readonly connectReplicas?: boolean;
}

/**
 * A replica group of a {@link BeamMesh}: any number of BEAM nodes `<alive>@<host>` registered as
 * one Consul service, each booted by its own `meshx-node run --kv <kvKey>`. Intentions, the ACL
 * identity and `service-defaults` are per service, so the replica count never touches Terraform;
 * which replicas exist comes from the catalog. Create it with `mesh.addReplicas()`.
 * @experimental added with replica groups
 */
export class BeamReplicas extends Construct implements IMeshMember {
  /** Always true: a replica group. */
  public readonly isGroup: boolean = true;
  /** The mesh this group belongs to. */
  public readonly mesh: IBeamMesh;
  /** Alive part of every replica's node name (before '@'). */
  public readonly alive: string;
  /** Consul service name shared by the replicas. */
  public readonly serviceName: string;
  /** How the group is named in descriptions and review: `<alive>@* (group <service>)`. */
  public readonly displayName: string;
  /** Consul KV key of the group manifest, `<kvPrefix>/<mesh>/groups/<service>`. */
  public readonly kvKey: string;
  /** Proxy kind of the replicas. */
  public readonly proxy: ProxyKind;
  /** Whether the replicas may dial each other. */
  public readonly connectReplicas: boolean;
  /** The group's ACL token, shared by its replicas (no secret is synthesized); undefined when the mesh has `acl: false` or `login`. */
  public readonly token?: AclToken;
  /** The ACL role a login for this group's service receives; only when the mesh has `login`. */
  public readonly role?: AclRole;
  /** The `service-defaults` config entry (protocol tcp). */
  public readonly serviceDefaults: ConfigEntry;
  /** The group manifest in Consul KV, resolved at synth from the mesh's connections. */
  public readonly manifestKey: ManifestKey;

  private readonly valid: ValidGroup;
  private validated?: { readonly version: number; readonly manifest: GroupManifest };

  constructor(mesh: IBeamMesh, id: string, props: BeamReplicasProps) {
    super(mesh, id);
    this.mesh = mesh;
    this.valid = validateReplicasProps(this, mesh.meshName, id, props);
    ({ alive: this.alive, serviceName: this.serviceName, connectReplicas: this.connectReplicas } = this.valid);
    this.displayName = `${this.alive}@* (group ${this.serviceName})`;
    this.proxy = props.proxy ?? mesh.proxy;
    this.kvKey = `${mesh.kvPrefix}/${mesh.meshName}/groups/${this.serviceName}`;

    mesh._register(this);

    // As for a node: distribution is raw TCP, whatever the global protocol default.
    this.serviceDefaults = new ConfigEntry(this, 'ServiceDefaults', {
      kind: 'service-defaults',
      name: this.serviceName,
      configJson: JSON.stringify({ Protocol: 'tcp' }),
      provider: mesh.provider,
    });
    if (mesh.acl) {
      const acl = new NodeAcl(this, 'Acl', {
        serviceName: this.serviceName,
        nodeName: `${this.alive}@*`,
        kvKey: this.kvKey,
        proxy: this.proxy,
        datacenter: mesh.datacenter,
        authMethod: mesh.login && sameStackRef(mesh.login.authMethod, 'name'),
        provider: mesh.provider,
      });
      this.token = acl.token;
      this.role = acl.role;
    }
    this.manifestKey = new ManifestKey(this, 'Manifest', {
      key: this.kvKey,
      manifest: new SynthValue(() => this.validatedManifest(), {}),
      datacenter: mesh.datacenter,
      provider: mesh.provider,
    });
  }

  /**
   * The members (nodes and groups) the replicas may dial, sorted by display name; the group
   * itself when `connectReplicas` is set.
   */
  public get peers(): IMeshMember[] {
    return this.mesh.peersOf(this);
  }

  /** The group manifest (v1), computed from the mesh's current connections. */
  public get manifest(): GroupManifest {
    const { upstreams, peerGroups } = manifestPeers(this, this.peers, undefined);
    return {
      apiVersion: MANIFEST_API_VERSION,
      mesh: this.mesh.meshName,
      group: { alive: this.alive },
      service: {
        name: this.serviceName,
        tags: [...this.valid.tags],
        meta: { ...this.valid.meta, meshx_mesh: this.mesh.meshName },
        distPort: this.valid.distPort,
        ttl: this.valid.ttl,
        deregisterCriticalAfter: this.valid.deregisterCriticalAfter,
      },
      sidecar: { port: 0, proxy: this.proxy, ...(this.valid.proxyConfig ? { config: this.valid.proxyConfig } : {}) },
      upstreams,
      peerGroups,
      epmdPort: this.valid.epmdPort,
    };
  }

  /** @internal fixed ports of the group (every replica's), as [field, port]. */
  public _fixedPorts(): Array<[string, number]> {
    return fixedPorts(this.valid);
  }

  /** The manifest as synthesized, its own part checked against the group schema (see withoutPeers); computed once per mesh change. */
  private validatedManifest(): GroupManifest {
    const version = this.mesh._topologyVersion;
    if (this.validated?.version === version) return this.validated.manifest;
    const manifest = this.manifest;
    try {
      validateAsJson(withoutPeers(manifest), validateGroupManifest);
    } catch (e) {
      fail(this, (e as Error).message);
    }
    this.validated = { version, manifest };
    return manifest;
  }
}

// One replica group on the netns cluster (support/cluster), set up by hand the way a deploy will
// (until the constructs' addReplicas exists): the group manifest in KV, the mesh's prepared-query
// template, the `svc -> svc` allow intention (a service-intentions config entry, Consul 1.14) and
// one ACL token per replica (the group's service identity plus read on the manifest key). Replicas
// boot with `meshx-node run --kv <group key> --node-name <alive>@<host>`; several replicas on one
// netns host differ by their host part (`api@r2.app-1.cluster.test`): the host is only a name in
// each helper's host map.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { queryTemplateDefinition, queryTemplateName } from '../../lib/manifest/replicas';
import { GroupManifest, ProxyKind } from '../../lib/manifest/types';
import { validateGroupManifest } from '../../lib/manifest/validate';
import { ConsulAgent } from '../../lib/runtime/consul/agent';
import { MeshNode, MeshNodeOptions } from '../mesh-node';
import { poll } from '../wait';
import { Cluster, ClusterHost } from './cluster';

export interface ClusterGroupOptions {
  readonly mesh: string;
  /** The group's Consul service. */
  readonly service: string;
  /** The part of every replica's node name before `@`. */
  readonly alive: string;
  /** Service TTL. @default '15s' */
  readonly ttl?: string;
}

async function ok(api: ConsulAgent, method: string, url: string, body?: unknown): Promise<any> {
  const r = await api.request(method, url, body);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : undefined;
}

/** `<alive>@r<k>.app-<host>.cluster.test`: replica k of a group on a cluster host. */
export const replicaName = (alive: string, host: number, k: number | string): string => `${alive}@r${k}.app-${host}.cluster.test`;

export class ClusterGroup {
  /** Writes the manifest, the template, the intention and the policy with the cluster's management token. */
  public static async create(cluster: Cluster, o: ClusterGroupOptions): Promise<ClusterGroup> {
    const manifest = validateGroupManifest({
      apiVersion: 'meshx-node/v1',
      mesh: o.mesh,
      group: { alive: o.alive },
      service: { name: o.service, tags: [], meta: { meshx_mesh: o.mesh }, distPort: 0, ttl: o.ttl ?? '15s', deregisterCriticalAfter: '1m' },
      sidecar: { port: 0, proxy: ProxyKind.BUILTIN },
      upstreams: [],
      peerGroups: [{ service: o.service, query: queryTemplateName(o.mesh) }],
      epmdPort: 0,
    } satisfies GroupManifest);
    const kv = `meshx/${o.mesh}/groups/${o.service}`;
    const api = cluster.api;
    await api.kvPut(kv, JSON.stringify(manifest));
    await ok(api, 'POST', '/v1/query', queryTemplateDefinition(o.mesh));
    const allow = { Name: o.service, Type: 'consul', Action: 'allow' };
    await ok(api, 'PUT', '/v1/config', { Kind: 'service-intentions', Name: o.service, Sources: [allow] });
    const policy = await ok(api, 'PUT', '/v1/acl/policy', {
      Name: `${o.service}-manifest`,
      Rules: `key "${kv}" {\n  policy = "read"\n}`,
    });
    return new ClusterGroup(cluster, o, kv, policy.ID);
  }

  private readonly tokens = new Map<string, string>();
  private readonly dir: string;

  private constructor(
    public readonly cluster: Cluster,
    public readonly o: ClusterGroupOptions,
    public readonly kv: string,
    private readonly policyId: string,
  ) {
    this.dir = path.join(cluster.work, `group-${o.service}`);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A 0600 token file for one replica: the group's service identity plus read on the manifest key. */
  public async tokenFile(node: string): Promise<string> {
    const known = this.tokens.get(node);
    if (known) return known;
    const t = await ok(this.cluster.api, 'PUT', '/v1/acl/token', {
      Description: `replica ${node}`,
      ServiceIdentities: [{ ServiceName: this.o.service }],
      Policies: [{ ID: this.policyId }],
    });
    const file = path.join(this.dir, `${node.replace(/[^a-z0-9]/gi, '-')}.token`);
    fs.writeFileSync(file, t.SecretID + '\n', { mode: 0o600 });
    this.tokens.set(node, file);
    return file;
  }

  /** Starts a replica on a host (`waitFor` as MeshNode.start: by default until its health check passes). */
  public async boot(host: ClusterHost, node: string, o: Partial<MeshNodeOptions> & { cookie: string }): Promise<MeshNode> {
    const tokenFile = await this.tokenFile(node);
    return this.cluster.bootNode(host, {
      ...o,
      kv: this.kv,
      node,
      tokenFile,
      extraRunArgs: ['--node-name', node, ...(o.extraRunArgs ?? [])],
    });
  }

  /** Stops replicas (SIGTERM, the helper deregisters) and forgets them on their hosts. */
  public async stop(nodes: MeshNode[]): Promise<void> {
    await Promise.all(nodes.map((n) => n.stop('SIGTERM')));
    for (const h of this.cluster.hosts) h.nodes.splice(0, h.nodes.length, ...h.nodes.filter((n) => !nodes.includes(n)));
  }

  /** The group's instances in the catalog (any status), as their `erlang_node` meta. */
  public async instances(): Promise<string[]> {
    const got: any[] = await ok(this.cluster.api, 'GET', `/v1/health/service/${this.o.service}`);
    return got.map((e) => e.Service?.Meta?.erlang_node as string).sort();
  }

  /** Waits until the catalog lists exactly `nodes` (sorted compare); throws at the deadline. */
  public async waitInstances(nodes: string[], timeoutMs = 30_000): Promise<void> {
    const want = JSON.stringify([...nodes].sort());
    const r = await poll(() => this.instances(), (got) => JSON.stringify(got) === want, { timeoutMs, intervalMs: 100, retryErrors: true });
    if (!r.met) throw new Error(`catalog lists ${JSON.stringify(r.value)} for ${this.o.service}, not ${want}, after ${timeoutMs} ms`);
  }
}

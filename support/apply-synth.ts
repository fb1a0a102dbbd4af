// Applies what `cdktf synth` produced to a live agent, resource by resource, the way the
// Terraform provider would: Terraform's registry is out of reach on these machines, and the
// tests must exercise exactly the synthesized values. Only the resource types meshx-node emits.
import { ConsulAgent, ConsulError } from '../lib/runtime/consul-agent';

export interface AppliedTokens {
  /** Per service name: the token the node boots with. */
  readonly [serviceName: string]: { readonly accessorId: string; readonly secretId: string };
}

export interface ApplyResult {
  readonly kvKeys: string[];
  readonly intentions: Array<{ id: string; source: string; destination: string; action: string }>;
  readonly configEntries: string[];
  readonly tokens: AppliedTokens;
}

async function ok(agent: ConsulAgent, method: string, path: string, body?: unknown): Promise<any> {
  const r = await agent.request(method, path, body);
  if (r.status < 200 || r.status > 299) throw new ConsulError(r.status, path, r.text);
  return r.text ? JSON.parse(r.text) : undefined;
}

/** Resolves `${consul_acl_policy.<name>.name}` references against applied policies. */
function resolveRefs(value: string, names: Map<string, string>): string {
  return value.replace(/\$\{consul_acl_policy\.([^.}]+)\.name\}/g, (_, id) => {
    const n = names.get(id);
    if (!n) throw new Error(`unresolved reference to consul_acl_policy.${id}`);
    return n;
  });
}

/**
 * Applies the synthesized resources. ACL policies and tokens only with `acl` (an agent with ACLs
 * disabled refuses them); the tokens' secrets come back in the result, for the test to use.
 */
export async function applySynth(agent: ConsulAgent, json: any, options: { acl?: boolean; skipConfigEntries?: boolean } = {}): Promise<ApplyResult> {
  const res = json.resource ?? {};
  const result: { kvKeys: string[]; intentions: ApplyResult['intentions']; configEntries: string[]; tokens: Record<string, { accessorId: string; secretId: string }> } = { kvKeys: [], intentions: [], configEntries: [], tokens: {} };

  const policyNames = new Map<string, string>();
  for (const [id, p] of Object.entries<any>(options.acl ? res.consul_acl_policy ?? {} : {})) {
    await ok(agent, 'PUT', '/v1/acl/policy', { Name: p.name, Description: p.description ?? '', Rules: p.rules, Datacenters: p.datacenters });
    policyNames.set(id, p.name);
  }
  for (const t of Object.values<any>(options.acl ? res.consul_acl_token ?? {} : {})) {
    const created = await ok(agent, 'PUT', '/v1/acl/token', {
      Description: t.description ?? '',
      Local: !!t.local,
      Policies: (t.policies ?? []).map((p: string) => ({ Name: resolveRefs(p, policyNames) })),
      ServiceIdentities: (t.service_identities ?? []).map((s: any) => ({ ServiceName: s.service_name, Datacenters: s.datacenters })),
    });
    const service = t.service_identities?.[0]?.service_name ?? created.AccessorID;
    result.tokens[service] = { accessorId: created.AccessorID, secretId: created.SecretID };
  }
  if (!options.skipConfigEntries) {
    for (const e of Object.values<any>(res.consul_config_entry ?? {})) {
      await ok(agent, 'PUT', '/v1/config', { Kind: e.kind, Name: e.name, ...JSON.parse(e.config_json ?? '{}') });
      result.configEntries.push(`${e.kind}/${e.name}`);
    }
  }
  // Allows before denies, like a careful operator; Consul evaluates by precedence anyway.
  const intentions = Object.values<any>(res.consul_intention ?? {}).sort((a, b) => (a.action === b.action ? 0 : a.action === 'allow' ? -1 : 1));
  for (const i of intentions) {
    const created = await ok(agent, 'POST', '/v1/connect/intentions', {
      SourceName: i.source_name,
      DestinationName: i.destination_name,
      SourceType: 'consul',
      Action: i.action,
      Description: i.description ?? '',
      Meta: i.meta ?? {},
    });
    result.intentions.push({ id: created.ID, source: i.source_name, destination: i.destination_name, action: i.action });
  }
  for (const k of Object.values<any>(res.consul_keys ?? {})) {
    for (const key of Array.isArray(k.key) ? k.key : [k.key]) {
      await agent.kvPut(key.path, key.value);
      result.kvKeys.push(key.path);
    }
  }
  return result;
}

/** Creates or replaces the intention between two services (legacy API, Consul 1.8). */
export async function setIntention(agent: ConsulAgent, source: string, destination: string, action: 'allow' | 'deny'): Promise<void> {
  const existing: any[] = await ok(agent, 'GET', '/v1/connect/intentions');
  for (const i of existing.filter((x) => x.SourceName === source && x.DestinationName === destination)) {
    await ok(agent, 'DELETE', `/v1/connect/intentions/${i.ID}`);
  }
  await ok(agent, 'POST', '/v1/connect/intentions', { SourceName: source, DestinationName: destination, SourceType: 'consul', Action: action });
}

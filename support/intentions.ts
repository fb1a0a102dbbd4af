// Flips one intention on a live agent, as an operator would in an incident, for tests and the
// demo that show a deny taking effect. Deploys change intentions through Terraform instead.
import { ConsulAgent, ConsulError } from '../lib/runtime/consul/agent';

async function ok(agent: ConsulAgent, method: string, path: string, body?: unknown): Promise<any> {
  const r = await agent.request(method, path, body);
  if (r.status < 200 || r.status > 299) throw new ConsulError(r.status, path, r.text);
  return r.text ? JSON.parse(r.text) : undefined;
}

/** Creates or replaces the intention between two services (legacy API, Consul 1.8). */
export async function setIntention(agent: ConsulAgent, source: string, destination: string, action: 'allow' | 'deny'): Promise<void> {
  const existing: any[] = await ok(agent, 'GET', '/v1/connect/intentions');
  for (const i of existing.filter((x) => x.SourceName === source && x.DestinationName === destination)) {
    await ok(agent, 'DELETE', `/v1/connect/intentions/${i.ID}`);
  }
  await ok(agent, 'POST', '/v1/connect/intentions', { SourceName: source, DestinationName: destination, SourceType: 'consul', Action: action });
}

/** Sets one source's action in the destination's service-intentions config entry (Consul 1.9+). */
export async function setIntentionEntry(agent: ConsulAgent, source: string, destination: string, action: 'allow' | 'deny'): Promise<void> {
  const entry = await ok(agent, 'GET', `/v1/config/service-intentions/${destination}`);
  const sources: any[] = entry.Sources ?? [];
  const mine = sources.find((s) => s.Name === source);
  if (mine) mine.Action = action;
  else sources.unshift({ Name: source, Type: 'consul', Precedence: 9, Action: action });
  await ok(agent, 'PUT', '/v1/config', { Kind: 'service-intentions', Name: destination, Meta: entry.Meta, Sources: sources });
}

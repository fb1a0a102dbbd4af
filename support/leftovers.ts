// What a deploy of ours can leave on an agent: the "destroy leaves it empty" check of the tests
// and the demo. The agent's own bootstrap tokens and built-in policies are not ours.
import { ConsulAgent } from '../lib/runtime/consul/agent';

export async function leftovers(api: ConsulAgent): Promise<string[]> {
  const get = async (p: string) => {
    const r = await api.request('GET', p);
    return r.status === 200 ? JSON.parse(r.text) : [];
  };
  const out: string[] = [];
  for (const k of await get('/v1/kv/?keys')) out.push(`kv ${k}`);
  for (const kind of ['service-intentions', 'service-defaults']) for (const e of await get(`/v1/config/${kind}`)) out.push(`${kind} ${e.Name}`);
  for (const i of await get('/v1/connect/intentions')) out.push(`intention ${i.SourceName} -> ${i.DestinationName}`);
  for (const t of await get('/v1/acl/tokens')) if (!/master|management|anonymous/i.test(t.Description)) out.push(`token ${t.Description}`);
  for (const p of await get('/v1/acl/policies')) if (p.Name !== 'global-management' && !p.Name.startsWith('builtin/')) out.push(`policy ${p.Name}`);
  return out;
}

// A small mesh whose topology changes between versions, published into a live Consul the way a
// deploy does it (manifests into KV, intentions to the agent), for the live-topology test and
// benchmark. The manifests and intentions are the constructs' own synth output.
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { BeamMesh, BeamNode, IntentionsMode, ProxyKind } from '../lib';
import { manifestsInSynth } from '../lib/manifest/extract';
import { NodeManifest } from '../lib/manifest/types';
import { ConsulAgent, ConsulError } from '../lib/runtime/consul/agent';
import { resourcesOfType } from '../lib/synth/reader';
import { setIntention } from './intentions';
import { synthToDir } from './synth';

export interface LiveTopology {
  /** Erlang node names. */
  readonly nodes: string[];
  /** Connected pairs (both ways). */
  readonly edges: Array<[string, string]>;
}

export interface LiveVersion {
  readonly manifests: Array<{ kvKey: string; manifest: NodeManifest }>;
  /** [source service, destination service, action], as the legacy intentions of the synth. */
  readonly intentions: Array<[string, string, 'allow' | 'deny']>;
}

/** Synthesizes one version of the mesh (legacy intentions for Consul 1.8, no ACLs, built-in proxies). */
export function synthLiveVersion(mesh: string, t: LiveTopology): LiveVersion {
  const { stackJson } = synthToDir((app) => {
    const stack = new TerraformStack(app, 'live');
    new ConsulProvider(stack, 'consul', {});
    const m = new BeamMesh(stack, 'Mesh', { name: mesh, intentionsMode: IntentionsMode.LEGACY, acl: false, proxy: ProxyKind.BUILTIN });
    const byName = new Map<string, BeamNode>();
    for (const n of t.nodes) byName.set(n, m.addNode(n.split('@')[0], { nodeName: n }));
    for (const [a, b] of t.edges) m.connect(byName.get(a)!, byName.get(b)!);
    return stack;
  });
  const manifests = manifestsInSynth(stackJson, 'live').map((f) => ({ kvKey: f.kvKey, manifest: f.manifest }));
  const intentions = resourcesOfType(stackJson, 'consul_intention').map(
    ({ body }) => [body.source_name, body.destination_name, body.action] as [string, string, 'allow' | 'deny'],
  );
  return { manifests, intentions };
}

/**
 * What `cdktf deploy` of `next` after `previous` does to Consul: intentions first (allows
 * created, removed ones deleted), then the manifests written to KV. Returns the time of the
 * first KV write (ms since the epoch), where a live node's change starts.
 */
export async function publishVersion(agent: ConsulAgent, next: LiveVersion, previous?: LiveVersion): Promise<number> {
  const key = (i: [string, string, string]) => `${i[0]}>${i[1]}`;
  const kept = new Set(next.intentions.map(key));
  for (const gone of (previous?.intentions ?? []).filter((i) => !kept.has(key(i)))) await deleteIntention(agent, gone[0], gone[1]);
  const before = new Set((previous?.intentions ?? []).map((i) => key(i) + i[2]));
  for (const i of next.intentions) if (!before.has(key(i) + i[2])) await setIntention(agent, i[0], i[1], i[2]);
  const oldText = new Map((previous?.manifests ?? []).map((m) => [m.kvKey, JSON.stringify(m.manifest)]));
  const changed = next.manifests.filter((m) => oldText.get(m.kvKey) !== JSON.stringify(m.manifest));
  const t0 = Date.now();
  for (const m of changed) await agent.kvPut(m.kvKey, JSON.stringify(m.manifest));
  return t0;
}

async function deleteIntention(agent: ConsulAgent, source: string, destination: string): Promise<void> {
  const r = await agent.request('GET', '/v1/connect/intentions');
  if (r.status !== 200) throw new ConsulError(r.status, '/v1/connect/intentions', r.text);
  for (const i of JSON.parse(r.text) as Array<{ ID: string; SourceName: string; DestinationName: string }>) {
    if (i.SourceName !== source || i.DestinationName !== destination) continue;
    const d = await agent.request('DELETE', `/v1/connect/intentions/${i.ID}`);
    if (d.status !== 200) throw new ConsulError(d.status, `/v1/connect/intentions/${i.ID}`, d.text);
  }
}

/** The KV key of a node's manifest in a version. */
export function keyOf(v: LiveVersion, node: string): string {
  const hit = v.manifests.find((m) => m.manifest.node === node);
  if (!hit) throw new Error(`no manifest for ${node}`);
  return hit.kvKey;
}

/** The service name of a node in a version. */
export function serviceOfNode(v: LiveVersion, node: string): string {
  const hit = v.manifests.find((m) => m.manifest.node === node);
  if (!hit) throw new Error(`no manifest for ${node}`);
  return hit.manifest.service.name;
}

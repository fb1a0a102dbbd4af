// Who may talk to whom, read back from synthesized stacks: the review view of a mesh.
import { allManifestsInSynth, FoundManifest } from '../manifest/extract';
import { AnyManifest, isGroupManifest } from '../manifest/types';
import { readStacks, resourcesOfType } from '../synth/reader';

export type IntentionAction = 'allow' | 'deny' | 'default';

/** A vertex: a single node, or a replica group as one node-like vertex (`api@* (group shop-api)`). */
export interface GraphNode {
  readonly node: string;
  readonly service: string;
  /** Set (true) only for a replica group, so graphs without groups print as before. */
  readonly group?: true;
}

/** One direction: `from` dials `to` (Erlang node names, or a group's vertex name; a group may dial itself). */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** What Consul decides for a new connection: exact intention, else the `*` one, else the cluster default. */
  readonly intention: IntentionAction;
  /** Whether `from` has an upstream to `to` (without one, it cannot dial even when allowed). */
  readonly upstream: boolean;
}

export type FindingKind = 'allowed-without-upstream' | 'upstream-not-allowed' | 'one-way' | 'wildcard-allow' | 'default-allow';

export interface Finding {
  readonly kind: FindingKind;
  readonly from: string;
  readonly to: string;
  readonly message: string;
}

export interface MeshGraph {
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
  readonly findings: Finding[];
}

/** An intention as synthesized: by service name; source may be `*`. */
interface RawIntention {
  readonly source: string;
  readonly destination: string;
  readonly action: 'allow' | 'deny';
}

/** Intentions in a synthesized stack, from legacy `consul_intention` and `service-intentions` config entries. */
export function intentionsInSynth(json: any): RawIntention[] {
  const out: RawIntention[] = [];
  for (const { body: i } of resourcesOfType(json, 'consul_intention')) {
    out.push({ source: i.source_name, destination: i.destination_name, action: i.action });
  }
  for (const { body: e } of resourcesOfType(json, 'consul_config_entry')) {
    if (e.kind !== 'service-intentions') continue;
    const config = typeof e.config_json === 'string' ? JSON.parse(e.config_json) : {};
    for (const s of config.Sources ?? []) {
      if (s.Action === 'allow' || s.Action === 'deny') out.push({ source: s.Name, destination: e.name, action: s.Action });
    }
  }
  return out;
}

const byName = (a: { from: string; to: string }, b: { from: string; to: string }) =>
  a.from + '\0' + a.to < b.from + '\0' + b.to ? -1 : a.from + '\0' + a.to > b.from + '\0' + b.to ? 1 : 0;

/** A manifest's vertex: a node by its name, a group by `<alive>@* (group <service>)`. */
export function vertexOf(m: AnyManifest): GraphNode {
  if (!isGroupManifest(m)) return { node: m.node, service: m.service.name };
  return { node: `${m.group.alive}@* (group ${m.service.name})`, service: m.service.name, group: true };
}

/** The services a member has an upstream to: single nodes' and peer groups' (a group's own included). */
function dialled(m: AnyManifest): string[] {
  return [...m.upstreams.map((u) => u.service), ...(m.peerGroups ?? []).map((g) => g.service)];
}

/** Builds the graph from manifests (nodes' and groups') and intentions (pure; see `graphFrom` for files). */
export function buildGraph(manifests: Array<FoundManifest<AnyManifest>>, intentions: RawIntention[]): MeshGraph {
  const nodes = manifests.map((f) => vertexOf(f.manifest)).sort((a, b) => (a.node < b.node ? -1 : 1));
  const nodeOf = new Map(nodes.map((n) => [n.service, n.node]));
  const exact = new Map<string, 'allow' | 'deny'>();
  const wildcard = new Map<string, 'allow' | 'deny'>();
  for (const i of intentions) {
    if (!nodeOf.has(i.destination)) continue;
    if (i.source === '*') {
      // At equal precedence deny wins.
      if (wildcard.get(i.destination) !== 'deny') wildcard.set(i.destination, i.action);
    } else if (nodeOf.has(i.source)) {
      const key = `${i.source}\0${i.destination}`;
      if (exact.get(key) !== 'deny') exact.set(key, i.action);
    }
  }
  const decide = (fromSvc: string, toSvc: string): IntentionAction => exact.get(`${fromSvc}\0${toSvc}`) ?? wildcard.get(toSvc) ?? 'default';

  const pairs = new Map<string, { from: string; to: string; upstream: boolean }>();
  for (const f of manifests) {
    const from = f.manifest.service.name;
    for (const to of dialled(f.manifest)) {
      if (nodeOf.has(to)) pairs.set(`${from}\0${to}`, { from, to, upstream: true });
    }
  }
  for (const key of exact.keys()) {
    if (!pairs.has(key)) {
      const [from, to] = key.split('\0');
      pairs.set(key, { from, to, upstream: false });
    }
  }
  const edges: GraphEdge[] = [...pairs.values()]
    .map((p) => ({ from: nodeOf.get(p.from)!, to: nodeOf.get(p.to)!, intention: decide(p.from, p.to), upstream: p.upstream }))
    .sort(byName);

  const findings: Finding[] = [];
  const edgeSet = new Set(edges.filter((e) => e.intention === 'allow' && e.upstream).map((e) => `${e.from}\0${e.to}`));
  for (const e of edges) {
    if (e.intention === 'allow' && !e.upstream) {
      findings.push({
        kind: 'allowed-without-upstream',
        from: e.from,
        to: e.to,
        message: `${e.from} is allowed to dial ${e.to} but has no upstream to it: the allow is unused (remove it, or connect them)`,
      });
    }
    if (e.upstream && e.intention !== 'allow') {
      findings.push({
        kind: 'upstream-not-allowed',
        from: e.from,
        to: e.to,
        message:
          `${e.from} has an upstream to ${e.to} but no intention allows it (${e.intention}): its connections will be refused` +
          (e.intention === 'default' ? ' unless the cluster default allows them' : ''),
      });
    }
    if (e.intention === 'allow' && e.upstream && !edgeSet.has(`${e.to}\0${e.from}`)) {
      findings.push({
        kind: 'one-way',
        from: e.from,
        to: e.to,
        message: `${e.from} may dial ${e.to}, but ${e.to} may not dial back: only ${e.from} can start the connection`,
      });
    }
  }
  for (const n of nodes) {
    const w = wildcard.get(n.service);
    if (w === 'allow')
      findings.push({
        kind: 'wildcard-allow',
        from: '*',
        to: n.node,
        message: `every service may dial ${n.node} (intention * -> ${n.service} allow)`,
      });
    if (w === undefined)
      findings.push({
        kind: 'default-allow',
        from: '*',
        to: n.node,
        message: `${n.node} has no * deny: services not listed fall to the cluster default, which allows when ACLs are off or default to allow`,
      });
  }
  findings.sort((a, b) => (a.kind === b.kind ? byName(a, b) : a.kind < b.kind ? -1 : 1));
  return { nodes, edges, findings };
}

/** The graph of every stack under a cdktf output dir, a stack dir or a `cdk.tf.json`. */
export function graphFrom(from: string): MeshGraph {
  const manifests: Array<FoundManifest<AnyManifest>> = [];
  const intentions: RawIntention[] = [];
  for (const { file, json } of readStacks(from)) {
    manifests.push(...allManifestsInSynth(json, file));
    intentions.push(...intentionsInSynth(json));
  }
  return buildGraph(manifests, intentions);
}

export interface GraphDiff {
  readonly added: GraphEdge[];
  readonly removed: GraphEdge[];
  /** Edges in both, unchanged. */
  readonly kept: GraphEdge[];
}

/** Edges added, removed and kept between two graphs (a changed intention or upstream is a remove plus an add). */
export function diffGraphs(before: MeshGraph, after: MeshGraph): GraphDiff {
  const key = (e: GraphEdge) => `${e.from}\0${e.to}\0${e.intention}\0${e.upstream}`;
  const old = new Set(before.edges.map(key));
  const now = new Set(after.edges.map(key));
  return {
    added: after.edges.filter((e) => !old.has(key(e))),
    removed: before.edges.filter((e) => !now.has(key(e))),
    kept: after.edges.filter((e) => old.has(key(e))),
  };
}

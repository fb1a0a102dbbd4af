// Text, Mermaid, DOT and JSON views of a MeshGraph.
import { GraphDiff, GraphEdge, MeshGraph } from './graph';

export type GraphFormat = 'text' | 'mermaid' | 'dot' | 'json';

const label = (e: GraphEdge) => `${e.intention}${e.upstream ? '' : ', no upstream'}`;

export function renderGraph(g: MeshGraph, format: GraphFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(g, null, 2) + '\n';
    case 'mermaid':
      return renderMermaid(g);
    case 'dot':
      return renderDot(g);
    default:
      return renderText(g);
  }
}

function renderText(g: MeshGraph): string {
  const w = Math.max(4, ...g.nodes.map((n) => n.node.length));
  const lines = [`nodes (${g.nodes.length}):`, ...g.nodes.map((n) => `  ${n.node.padEnd(w)}  ${n.service}`), '', `edges (${g.edges.length}):`];
  for (const e of g.edges)
    lines.push(`  ${e.from.padEnd(w)} -> ${e.to.padEnd(w)}  ${e.intention.padEnd(7)} ${e.upstream ? 'upstream' : 'no upstream'}`);
  lines.push('', `findings (${g.findings.length}):`);
  for (const f of g.findings) lines.push(`  [${f.kind}] ${f.message}`);
  return lines.join('\n') + '\n';
}

const ids = (g: MeshGraph) => new Map(g.nodes.map((n, i) => [n.node, `n${i}`]));

function renderMermaid(g: MeshGraph): string {
  const id = ids(g);
  const lines = ['flowchart LR'];
  // A replica group is drawn as a subroutine box (double sides): one vertex for many nodes.
  for (const n of g.nodes) {
    const text = `"${n.node}<br/><small>${n.service}</small>"`;
    lines.push(`  ${id.get(n.node)}${n.group ? `[[${text}]]` : `[${text}]`}`);
  }
  g.edges.forEach((e, i) => {
    lines.push(`  ${id.get(e.from)} ${e.intention === 'allow' && e.upstream ? '-->' : '-.->'}|${label(e)}| ${id.get(e.to)}`);
    const color = e.intention === 'allow' ? (e.upstream ? '#2a7' : '#999') : e.intention === 'deny' ? '#c33' : '#d90';
    lines.push(`  linkStyle ${i} stroke:${color}`);
  });
  return lines.join('\n') + '\n';
}

/** A quoted DOT string. */
const dotQuote = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;

/** The opening lines of a left-to-right DOT digraph with rounded boxes. */
const dotHeader = (name: string): string[] => [
  `digraph ${name} {`,
  '  rankdir=LR;',
  '  node [shape=box, style=rounded, fontname="Helvetica"];',
  '  edge [fontname="Helvetica", fontsize=10];',
];

function renderDot(g: MeshGraph): string {
  const id = ids(g);
  const q = dotQuote;
  const lines = dotHeader('mesh');
  // A replica group is drawn as a stack of boxes: one vertex for many nodes.
  for (const n of g.nodes) lines.push(`  ${id.get(n.node)} [label=${q(`${n.node}\n${n.service}`)}${n.group ? ', shape=box3d' : ''}];`);
  for (const e of g.edges) {
    const color = e.intention === 'allow' ? (e.upstream ? 'darkgreen' : 'gray') : e.intention === 'deny' ? 'red' : 'orange';
    const style = e.intention === 'allow' && e.upstream ? '' : ', style=dashed';
    lines.push(`  ${id.get(e.from)} -> ${id.get(e.to)} [label=${q(label(e))}, color=${color}${style}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

type Change = 'added' | 'removed' | 'kept';

/** Every edge of a diff with what happens to it, removed ones first. */
const changes = (d: GraphDiff): Array<{ e: GraphEdge; c: Change }> => [
  ...d.removed.map((e) => ({ e, c: 'removed' as Change })),
  ...d.added.map((e) => ({ e, c: 'added' as Change })),
  ...d.kept.map((e) => ({ e, c: 'kept' as Change })),
];
const DIFF_COLOR: Record<Change, { mermaid: string; dot: string }> = {
  added: { mermaid: '#2a7', dot: 'darkgreen' },
  removed: { mermaid: '#c33', dot: 'red' },
  kept: { mermaid: '#999', dot: 'gray' },
};

/** A diff of two graphs: `+` added, `-` removed, `=` kept edges (text), or the same as a picture. */
export function renderDiff(d: GraphDiff, format: GraphFormat): string {
  if (format === 'json') return JSON.stringify(d, null, 2) + '\n';
  const all = changes(d);
  const names = [...new Set(all.flatMap(({ e }) => [e.from, e.to]))].sort();
  const id = new Map(names.map((n, i) => [n, `n${i}`]));
  if (format === 'mermaid') {
    const lines = ['flowchart LR', ...names.map((n) => `  ${id.get(n)}["${n}"]`)];
    all.forEach(({ e, c }, i) => {
      lines.push(`  ${id.get(e.from)} ${c === 'removed' ? '-.->' : '-->'}|${c}: ${label(e)}| ${id.get(e.to)}`);
      lines.push(`  linkStyle ${i} stroke:${DIFF_COLOR[c].mermaid}`);
    });
    return lines.join('\n') + '\n';
  }
  if (format === 'dot') {
    const q = dotQuote;
    const lines = dotHeader('mesh_diff');
    for (const n of names) lines.push(`  ${id.get(n)} [label=${q(n)}];`);
    for (const { e, c } of all) {
      const style = c === 'removed' ? ', style=dashed' : '';
      lines.push(`  ${id.get(e.from)} -> ${id.get(e.to)} [label=${q(`${c}: ${label(e)}`)}, color=${DIFF_COLOR[c].dot}${style}];`);
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  }
  const sign: Record<Change, string> = { removed: '-', added: '+', kept: '=' };
  const lines = all.map(({ e, c }) => `${sign[c]} ${e.from} -> ${e.to}  ${e.intention} ${e.upstream ? 'upstream' : 'no upstream'}`);
  const summary = `${d.added.length} added, ${d.removed.length} removed, ${d.kept.length} kept`;
  return (
    (d.added.length || d.removed.length
      ? lines.concat('', summary)
      : ['no change in who may talk to whom', ...lines.filter((l) => l.startsWith('='))]
    ).join('\n') + '\n'
  );
}

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
  for (const e of g.edges) lines.push(`  ${e.from.padEnd(w)} -> ${e.to.padEnd(w)}  ${e.intention.padEnd(7)} ${e.upstream ? 'upstream' : 'no upstream'}`);
  lines.push('', `findings (${g.findings.length}):`);
  for (const f of g.findings) lines.push(`  [${f.kind}] ${f.message}`);
  return lines.join('\n') + '\n';
}

const ids = (g: MeshGraph) => new Map(g.nodes.map((n, i) => [n.node, `n${i}`]));

function renderMermaid(g: MeshGraph): string {
  const id = ids(g);
  const lines = ['flowchart LR'];
  for (const n of g.nodes) lines.push(`  ${id.get(n.node)}["${n.node}<br/><small>${n.service}</small>"]`);
  g.edges.forEach((e, i) => {
    lines.push(`  ${id.get(e.from)} ${e.intention === 'allow' && e.upstream ? '-->' : '-.->'}|${label(e)}| ${id.get(e.to)}`);
    const color = e.intention === 'allow' ? (e.upstream ? '#2a7' : '#999') : e.intention === 'deny' ? '#c33' : '#d90';
    lines.push(`  linkStyle ${i} stroke:${color}`);
  });
  return lines.join('\n') + '\n';
}

function renderDot(g: MeshGraph): string {
  const id = ids(g);
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  const lines = ['digraph mesh {', '  rankdir=LR;', '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  for (const n of g.nodes) lines.push(`  ${id.get(n.node)} [label=${q(`${n.node}\n${n.service}`)}];`);
  for (const e of g.edges) {
    const color = e.intention === 'allow' ? (e.upstream ? 'darkgreen' : 'gray') : e.intention === 'deny' ? 'red' : 'orange';
    lines.push(`  ${id.get(e.from)} -> ${id.get(e.to)} [label=${q(label(e))}, color=${color}${e.intention === 'allow' && e.upstream ? '' : ', style=dashed'}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

export function renderDiff(d: GraphDiff, format: GraphFormat): string {
  if (format === 'json') return JSON.stringify(d, null, 2) + '\n';
  const line = (sign: string, e: GraphEdge) => `${sign} ${e.from} -> ${e.to}  ${e.intention} ${e.upstream ? 'upstream' : 'no upstream'}`;
  const lines = [...d.removed.map((e) => line('-', e)), ...d.added.map((e) => line('+', e))];
  return (lines.length ? lines.join('\n') : 'no change in who may talk to whom') + '\n';
}

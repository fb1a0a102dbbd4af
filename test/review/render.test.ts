import { GraphDiff, MeshGraph } from '../../lib/review/graph';
import { renderDiff, renderGraph } from '../../lib/review/render';

const A = 'a@h1.x';
const B = 'b@h2.x';
const C = 'c@h3.x';
const graph: MeshGraph = {
  nodes: [{ node: A, service: 'm-a' }, { node: B, service: 'm-b' }],
  edges: [
    { from: A, to: B, intention: 'allow', upstream: true },
    { from: B, to: A, intention: 'deny', upstream: true },
  ],
  findings: [{ kind: 'upstream-not-allowed', from: B, to: A, message: 'b has an upstream to a but no intention allows it (deny)' }],
};
const diff: GraphDiff = {
  added: [{ from: A, to: C, intention: 'allow', upstream: true }],
  removed: [{ from: B, to: A, intention: 'deny', upstream: true }],
  kept: [{ from: A, to: B, intention: 'allow', upstream: true }],
};

describe('graph renderings', () => {
  test('text lists nodes, edges and findings', () => {
    expect(renderGraph(graph, 'text')).toBe([
      'nodes (2):', '  a@h1.x  m-a', '  b@h2.x  m-b', '', 'edges (2):', '  a@h1.x -> b@h2.x  allow   upstream',
      '  b@h2.x -> a@h1.x  deny    upstream', '', 'findings (1):',
      '  [upstream-not-allowed] b has an upstream to a but no intention allows it (deny)', '',
    ].join('\n'));
  });

  test('mermaid and dot: allowed edges solid green, denied dashed red', () => {
    const mermaid = renderGraph(graph, 'mermaid');
    expect(mermaid).toContain('n0 -->|allow| n1');
    expect(mermaid).toContain('n1 -.->|deny| n0');
    expect(mermaid).toContain('linkStyle 1 stroke:#c33');
    const dot = renderGraph(graph, 'dot');
    expect(dot).toContain('n0 -> n1 [label="allow", color=darkgreen];');
    expect(dot).toContain('n1 -> n0 [label="deny", color=red, style=dashed];');
    expect(JSON.parse(renderGraph(graph, 'json'))).toEqual(graph);
  });
});

describe('a replica group', () => {
  const G = 'api@* (group m-api)';
  const withGroup: MeshGraph = {
    nodes: [{ node: A, service: 'm-a' }, { node: G, service: 'm-api', group: true }],
    edges: [{ from: A, to: G, intention: 'allow', upstream: true }, { from: G, to: G, intention: 'allow', upstream: true }],
    findings: [],
  };

  test('is drawn as a stack (dot) or a double-sided box (mermaid); single nodes as before', () => {
    const dot = renderGraph(withGroup, 'dot');
    expect(dot).toContain(`n1 [label="${G}\nm-api", shape=box3d];`);
    expect(dot).toContain(`n0 [label="${A}\nm-a"];`);
    expect(dot).toContain('n1 -> n1 [label="allow", color=darkgreen];');
    const mermaid = renderGraph(withGroup, 'mermaid');
    expect(mermaid).toContain(`n1[["${G}<br/><small>m-api</small>"]]`);
    expect(mermaid).toContain(`n0["${A}<br/><small>m-a</small>"]`);
    expect(renderGraph(withGroup, 'text')).toContain(`  ${G}  m-api\n`);
  });
});

describe('diff renderings', () => {
  test('text: removed, added, kept, then a summary', () => {
    expect(renderDiff(diff, 'text')).toBe([
      '- b@h2.x -> a@h1.x  deny upstream',
      '+ a@h1.x -> c@h3.x  allow upstream',
      '= a@h1.x -> b@h2.x  allow upstream',
      '',
      '1 added, 1 removed, 1 kept',
      '',
    ].join('\n'));
    expect(renderDiff({ added: [], removed: [], kept: diff.kept }, 'text')).toBe(
      'no change in who may talk to whom\n= a@h1.x -> b@h2.x  allow upstream\n',
    );
  });

  test('mermaid, dot and json show each edge with what happens to it', () => {
    const mermaid = renderDiff(diff, 'mermaid');
    expect(mermaid).toMatch(/-\.->\|removed: deny\|/);
    expect(mermaid).toMatch(/-->\|added: allow\|/);
    expect(mermaid).toMatch(/-->\|kept: allow\|/);
    const dot = renderDiff(diff, 'dot');
    expect(dot).toContain('[label="removed: deny", color=red, style=dashed]');
    expect(dot).toContain('[label="added: allow", color=darkgreen]');
    expect(dot).toContain('[label="kept: allow", color=gray]');
    expect(JSON.parse(renderDiff(diff, 'json'))).toEqual(diff);
  });
});

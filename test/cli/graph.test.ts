// `meshx-node graph` through the real binary; DOT rendered by Graphviz (a real renderer).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { ReleaseClusterStack } from '../../examples/release-cluster/stack';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { BeamMesh } from '../../lib';
import { BIN } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';

jest.setTimeout(60_000);

const graph = (...args: string[]) => spawnSync(process.execPath, [BIN, 'graph', ...args], { encoding: 'utf8' });

describe('meshx-node graph', () => {
  const two = synthToDir((app) => new TwoNodesStack(app, 'two-nodes')).outdir;

  test('--format json has the documented shape', () => {
    const r = graph('--from', two, '--format', 'json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      nodes: [{ node: 'billing@billing-1.shop.test', service: 'shop-billing' }, { node: 'orders@orders-1.shop.test', service: 'shop-orders' }],
      edges: [
        { from: 'billing@billing-1.shop.test', to: 'orders@orders-1.shop.test', intention: 'allow', upstream: true },
        { from: 'orders@orders-1.shop.test', to: 'billing@billing-1.shop.test', intention: 'allow', upstream: true },
      ],
      findings: [],
    });
  });

  test('text lists nodes, edges and findings', () => {
    const r = graph('--from', two);
    expect(r.stdout).toMatch(/edges \(2\):\n  billing@billing-1\.shop\.test -> orders@orders-1\.shop\.test +allow +upstream\n/);
    expect(r.stdout).toContain('findings (0):');
  });

  test('DOT renders to SVG with Graphviz', () => {
    const dot = graph('--from', two, '--format', 'dot');
    expect(dot.stdout).toMatch(/^digraph mesh \{/);
    const svg = spawnSync('dot', ['-Tsvg'], { input: dot.stdout, encoding: 'utf8' });
    expect(svg.error).toBeUndefined();
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain('<svg');
    expect(svg.stdout.replace(/&#45;/g, '-')).toContain('orders@orders-1.shop.test');
    expect((svg.stdout.match(/class="edge"/g) ?? []).length).toBe(2);
  });

  test('Mermaid renders to SVG with mermaid-cli (Debian chromium)', () => {
    const m = graph('--from', two, '--format', 'mermaid').stdout;
    expect(m.split('\n')[0]).toBe('flowchart LR');
    expect(m.match(/ -->\|allow\| /g)).toHaveLength(2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-mmd-'));
    fs.writeFileSync(path.join(dir, 'g.mmd'), m);
    const root = path.resolve(__dirname, '..', '..');
    const r = spawnSync(
      path.join(root, 'node_modules', '.bin', 'mmdc'),
      ['-i', path.join(dir, 'g.mmd'), '-o', path.join(dir, 'g.svg'), '-p', path.join(root, 'test', 'fixtures', 'puppeteer.json'), '-q'],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const svg = fs.readFileSync(path.join(dir, 'g.svg'), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(svg).toContain('<svg');
    expect(svg).toContain('orders@orders-1.shop.test');
    expect(svg.match(/class="edgeLabel"/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });

  test('--diff shows edges added and removed between two synths', () => {
    const before = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster', { hosts: ['a.x', 'b.x'] })).outdir;
    const after = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster', { hosts: ['a.x', 'c.x'] })).outdir;
    const r = graph('--from', after, '--diff', before);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe([
      '- app@a.x -> app@b.x  allow upstream',
      '- app@b.x -> app@a.x  allow upstream',
      '+ app@a.x -> app@c.x  allow upstream',
      '+ app@c.x -> app@a.x  allow upstream',
      '',
      '2 added, 2 removed, 0 kept',
      '',
    ].join('\n'));
    expect(graph('--from', after, '--diff', after).stdout).toBe(
      'no change in who may talk to whom\n= app@a.x -> app@c.x  allow upstream\n= app@c.x -> app@a.x  allow upstream\n',
    );
    const dot = graph('--from', after, '--diff', before, '--format', 'dot').stdout;
    expect(dot.match(/color=red, style=dashed/g)).toHaveLength(2);
    expect(dot.match(/label="added: allow", color=darkgreen/g)).toHaveLength(2);
    expect(JSON.parse(graph('--from', after, '--diff', before, '--format', 'json').stdout).added).toHaveLength(2);
  });

  describe('a mesh with a replica group', () => {
    const shop = synthToDir((app) => {
      const stack = new TerraformStack(app, 'shop');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop' });
      mesh.connect(mesh.addNode('Db', { nodeName: 'db@db-1.x' }), mesh.addReplicas('Api', { alive: 'api' }));
      return stack;
    }).outdir;

    test('text shows the group as one vertex with its edges, itself included', () => {
      const r = graph('--from', shop);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('nodes (2):\n  api@* (group shop-api)  shop-api\n  db@db-1.x               shop-db\n');
      expect(r.stdout).toMatch(/^ {2}api@\* \(group shop-api\) -> api@\* \(group shop-api\) +allow +upstream$/m);
      expect(r.stdout).toMatch(/^ {2}db@db-1\.x +-> api@\* \(group shop-api\) +allow +upstream$/m);
      expect(r.stdout).toContain('findings (0):');
    });

    test('DOT and Mermaid of it render to SVG', () => {
      const svg = spawnSync('dot', ['-Tsvg'], { input: graph('--from', shop, '--format', 'dot').stdout, encoding: 'utf8' });
      expect(svg.status).toBe(0);
      expect((svg.stdout.match(/class="edge"/g) ?? []).length).toBe(3);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-mmd-'));
      fs.writeFileSync(path.join(dir, 'g.mmd'), graph('--from', shop, '--format', 'mermaid').stdout);
      const root = path.resolve(__dirname, '..', '..');
      const r = spawnSync(
        path.join(root, 'node_modules', '.bin', 'mmdc'),
        ['-i', path.join(dir, 'g.mmd'), '-o', path.join(dir, 'g.svg'), '-p', path.join(root, 'test', 'fixtures', 'puppeteer.json'), '-q'],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const text = fs.readFileSync(path.join(dir, 'g.svg'), 'utf8');
      fs.rmSync(dir, { recursive: true, force: true });
      expect(text).toContain('api@* (group shop-api)');
    });
  });

  test('bad input: exit 2 with the option named', () => {
    const r = graph('--from', '/nonexistent');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--from: /nonexistent does not exist');
    expect(graph('--format', 'dot').stderr).toContain('--from or --plan is required');
    expect(graph('--plan', '/nonexistent.json').stderr).toContain('--plan: /nonexistent.json');
    expect(graph('--plan', '/nonexistent.json').status).toBe(2);
    const notPlan = path.join(synthToDir((app) => new TwoNodesStack(app, 'two-nodes')).outdir, 'stacks', 'two-nodes', 'cdk.tf.json');
    expect(graph('--plan', notPlan).stderr).toContain('is not the JSON of a saved plan');
    expect(graph('--plan', notPlan, '--from', two).stderr).toContain('leave out --from and --diff');
  });
});

import { Intention } from '@cdktf/provider-consul/lib/intention';
import { TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { ComposedStack } from '../../examples/composed/stack';
import { ReleaseClusterStack } from '../../examples/release-cluster/stack';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { BeamMesh, IntentionsMode } from '../../lib';
import { diffGraphs, graphFrom } from '../../lib/review/graph';
import { synthToDir } from '../../support/synth';

const edgesOf = (outdir: string) => graphFrom(outdir).edges.map((e) => `${e.from} -> ${e.to} ${e.intention}${e.upstream ? ' upstream' : ''}`);

describe('mesh graph from synthesized stacks', () => {
  test('two-nodes: both directions allowed with upstreams, no findings', () => {
    const { outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes'));
    const g = graphFrom(outdir);
    expect(g.nodes).toEqual([
      { node: 'billing@billing-1.shop.test', service: 'shop-billing' },
      { node: 'orders@orders-1.shop.test', service: 'shop-orders' },
    ]);
    expect(g.edges).toEqual([
      { from: 'billing@billing-1.shop.test', to: 'orders@orders-1.shop.test', intention: 'allow', upstream: true },
      { from: 'orders@orders-1.shop.test', to: 'billing@billing-1.shop.test', intention: 'allow', upstream: true },
    ]);
    expect(g.findings).toEqual([]);
  });

  test('release-cluster: six directed edges of a full mesh', () => {
    const { outdir } = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster'));
    expect(edgesOf(outdir)).toEqual([
      'app@app-1.cluster.test -> app@app-2.cluster.test allow upstream',
      'app@app-1.cluster.test -> app@app-3.cluster.test allow upstream',
      'app@app-2.cluster.test -> app@app-1.cluster.test allow upstream',
      'app@app-2.cluster.test -> app@app-3.cluster.test allow upstream',
      'app@app-3.cluster.test -> app@app-1.cluster.test allow upstream',
      'app@app-3.cluster.test -> app@app-2.cluster.test allow upstream',
    ]);
    expect(graphFrom(outdir).findings).toEqual([]);
  });

  test('composed (CONFIG_ENTRY): the one-way audit -> ledger edge is a finding', () => {
    const { outdir } = synthToDir((app) => new ComposedStack(app, 'composed'));
    expect(edgesOf(outdir)).toEqual([
      'api@api-1.dc2.internal -> ledger@ledger-1.dc2.internal allow upstream',
      'audit@audit-1.dc2.internal -> ledger@ledger-1.dc2.internal allow upstream',
      'ledger@ledger-1.dc2.internal -> api@api-1.dc2.internal allow upstream',
    ]);
    expect(graphFrom(outdir).findings).toEqual([
      {
        kind: 'one-way',
        from: 'audit@audit-1.dc2.internal',
        to: 'ledger@ledger-1.dc2.internal',
        message: expect.stringContaining('ledger@ledger-1.dc2.internal may not dial back'),
      },
    ]);
  });

  test('findings: wildcard allow, default allow, upstream not allowed, allow without upstream', () => {
    const { outdir } = synthToDir((app) => {
      const stack = new TerraformStack(app, 'risky');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'r', intentionsMode: IntentionsMode.LEGACY, defaultDeny: false });
      const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
      const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
      mesh.addNode('C', { nodeName: 'c@h3.x' });
      mesh.connect(a, b, { bidirectional: false });
      new Intention(stack, 'Deny', { sourceName: 'r-a', destinationName: 'r-b', action: 'deny' }); // deny beats the allow
      new Intention(stack, 'Extra', { sourceName: 'r-c', destinationName: 'r-a', action: 'allow' }); // c has no upstream
      new Intention(stack, 'Open', { sourceName: '*', destinationName: 'r-c', action: 'allow' });
      return stack;
    });
    const g = graphFrom(outdir);
    expect(g.edges).toEqual([
      { from: 'a@h1.x', to: 'b@h2.x', intention: 'deny', upstream: true },
      { from: 'c@h3.x', to: 'a@h1.x', intention: 'allow', upstream: false },
    ]);
    expect(g.findings.map((f) => `${f.kind} ${f.from} ${f.to}`)).toEqual([
      'allowed-without-upstream c@h3.x a@h1.x',
      'default-allow * a@h1.x',
      'default-allow * b@h2.x',
      'upstream-not-allowed a@h1.x b@h2.x',
      'wildcard-allow * c@h3.x',
    ]);
  });

  test('diff of two versions of release-cluster: a fourth host adds six edges, removes none', () => {
    const before = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster')).outdir;
    const after = synthToDir(
      (app) =>
        new ReleaseClusterStack(app, 'release-cluster', {
          hosts: ['app-1.cluster.test', 'app-2.cluster.test', 'app-3.cluster.test', 'app-4.cluster.test'],
        }),
    ).outdir;
    const d = diffGraphs(graphFrom(before), graphFrom(after));
    expect(d.removed).toEqual([]);
    expect(d.added.map((e) => `${e.from} -> ${e.to}`)).toEqual([
      'app@app-1.cluster.test -> app@app-4.cluster.test',
      'app@app-2.cluster.test -> app@app-4.cluster.test',
      'app@app-3.cluster.test -> app@app-4.cluster.test',
      'app@app-4.cluster.test -> app@app-1.cluster.test',
      'app@app-4.cluster.test -> app@app-2.cluster.test',
      'app@app-4.cluster.test -> app@app-3.cluster.test',
    ]);
    expect(diffGraphs(graphFrom(after), graphFrom(before)).removed).toHaveLength(6);
  });

  describe('replica groups', () => {
    /** A shop: node db, group api (replicas reach each other), group worker (they do not); api <-> db, worker -> api. */
    const shop = (mode: IntentionsMode) => synthToDir((app) => {
      const stack = new TerraformStack(app, 'shop');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop', intentionsMode: mode });
      const db = mesh.addNode('Db', { nodeName: 'db@db-1.x' });
      const api = mesh.addReplicas('Api', { alive: 'api' });
      const worker = mesh.addReplicas('Worker', { alive: 'worker', connectReplicas: false });
      mesh.connect(api, db);
      mesh.connect(worker, api, { bidirectional: false });
      return stack;
    }).outdir;

    test.each([IntentionsMode.CONFIG_ENTRY, IntentionsMode.LEGACY])('a group is one vertex; its peer groups and itself are edges (%s)', (mode) => {
      const g = graphFrom(shop(mode));
      expect(g.nodes).toEqual([
        { node: 'api@* (group shop-api)', service: 'shop-api', group: true },
        { node: 'db@db-1.x', service: 'shop-db' },
        { node: 'worker@* (group shop-worker)', service: 'shop-worker', group: true },
      ]);
      expect(g.edges.map((e) => `${e.from} -> ${e.to} ${e.intention}${e.upstream ? ' upstream' : ''}`)).toEqual([
        'api@* (group shop-api) -> api@* (group shop-api) allow upstream',
        'api@* (group shop-api) -> db@db-1.x allow upstream',
        'db@db-1.x -> api@* (group shop-api) allow upstream',
        'worker@* (group shop-worker) -> api@* (group shop-api) allow upstream',
      ]);
      expect(g.findings.map((f) => `${f.kind} ${f.from} ${f.to}`)).toEqual(['one-way worker@* (group shop-worker) api@* (group shop-api)']);
    });

    test('a peer group that no intention allows is a finding', () => {
      const { outdir } = synthToDir((app) => {
        const stack = new TerraformStack(app, 'shop');
        new ConsulProvider(stack, 'consul', {});
        const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop', intentionsMode: IntentionsMode.LEGACY });
        mesh.connect(mesh.addNode('Web', { nodeName: 'web@w.x' }), mesh.addReplicas('Api', { alive: 'api' }), { bidirectional: false });
        new Intention(stack, 'Cut', { sourceName: 'shop-web', destinationName: 'shop-api', action: 'deny' });
        return stack;
      });
      const g = graphFrom(outdir);
      expect(g.findings.map((f) => `${f.kind} ${f.from} ${f.to}`)).toEqual(['upstream-not-allowed web@w.x api@* (group shop-api)']);
    });
  });
});

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComposedStack } from '../examples/composed/stack';
import { ReleaseClusterStack } from '../examples/release-cluster/stack';
import { TwoNodesStack } from '../examples/two-nodes/stack';
import { IntentionsMode } from '../lib';
import { manifestsFrom } from '../lib/manifest/extract';
import { synthToDir } from '../support/synth';
import { resources } from './util';

jest.setTimeout(120_000);

describe('examples synthesize offline', () => {
  test('two-nodes: two manifests, service-intentions entries both ways plus default deny, a token per node', () => {
    const { outdir, stackJson } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes'));
    const found = manifestsFrom(outdir);
    expect(found.map((f) => f.manifest.node).sort()).toEqual(['billing@billing-1.shop.test', 'orders@orders-1.shop.test']);
    expect(found.every((f) => f.manifest.sidecar.proxy === 'builtin')).toBe(true);
    expect(resources(stackJson, 'consul_intention')).toEqual([]);
    const entries = resources(stackJson, 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
    expect(entries.flatMap((e) => JSON.parse(e.config_json).Sources.map((s: any) => `${s.Name}>${e.name}:${s.Action}`)).sort()).toEqual([
      '*>shop-billing:deny',
      '*>shop-orders:deny',
      'shop-billing>shop-orders:allow',
      'shop-orders>shop-billing:allow',
    ]);
    expect(resources(stackJson, 'consul_acl_token')).toHaveLength(2);
  });

  test('two-nodes for a Consul 1.8 agent without ACLs: LEGACY intentions, no tokens', () => {
    const { stackJson } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    expect(resources(stackJson, 'consul_intention').map((i) => `${i.source_name}>${i.destination_name}:${i.action}`).sort()).toEqual([
      '*>shop-billing:deny',
      '*>shop-orders:deny',
      'shop-billing>shop-orders:allow',
      'shop-orders>shop-billing:allow',
    ]);
    expect(resources(stackJson, 'consul_acl_token')).toEqual([]);
  });

  test('release-cluster: three app@<host> nodes, each with its two peers on 127.0.0.2 and .3', () => {
    const { outdir, stackJson } = synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster'));
    const found = manifestsFrom(outdir);
    expect(found).toHaveLength(3);
    for (const { manifest } of found) {
      expect(manifest.upstreams.map((u) => u.address)).toEqual(['127.0.0.2', '127.0.0.3']);
      expect(manifest.upstreams.every((u) => u.node.startsWith('app@'))).toBe(true);
    }
    expect(resources(stackJson, 'consul_intention').filter((i) => i.action === 'allow')).toHaveLength(6);
  });

  test('composed: the mesh uses the aliased provider, CONFIG_ENTRY intentions, Envoy, and sits beside other resources', () => {
    const { stackJson } = synthToDir((app) => new ComposedStack(app, 'composed'));
    expect(stackJson.provider.consul).toHaveLength(2);
    const meshResources = ['consul_config_entry', 'consul_acl_token', 'consul_acl_policy']
      .flatMap((t) => resources(stackJson, t))
      .filter((r) => r.name !== 'ops-read');
    for (const r of meshResources) expect(r.provider).toBe('consul.dc2');
    const intentions = resources(stackJson, 'consul_config_entry').filter((e) => e.kind === 'service-intentions');
    const ledger = JSON.parse(intentions.find((e) => e.name === 'payments-ledger').config_json);
    expect(ledger.Sources.map((s: any) => `${s.Name}:${s.Action}`)).toEqual(['payments-api:allow', 'payments-audit:allow', '*:deny']);
    const audit = JSON.parse(intentions.find((e) => e.name === 'payments-audit').config_json);
    expect(audit.Sources.map((s: any) => `${s.Name}:${s.Action}`)).toEqual(['*:deny']);
    expect(resources(stackJson, 'consul_keys').map((k) => k.key[0].path)).toContain('platform/meshx/payments/nodes/payments-api');
    // the example's own three accessor outputs, plus the mesh's per-node output
    expect(Object.keys(stackJson.output)).toHaveLength(4);
    const nodes = Object.entries<any>(stackJson.output).find(([k]) => k.startsWith('Payments_Nodes_'))![1].value;
    expect(Object.keys(nodes)).toEqual(['payments-api', 'payments-audit', 'payments-ledger']);
    expect(nodes['payments-api']).toEqual({
      node: expect.any(String),
      kv_key: 'platform/meshx/payments/nodes/payments-api',
      token_accessor: expect.stringMatching(/^\$\{consul_acl_token\..*\.accessor_id\}$/),
    });
  });
});

describe('cdktf synth', () => {
  test('exits non-zero with the construct path on a bad mesh', () => {
    // Inside the repo, so the app resolves cdktf from node_modules like a user's app would.
    const dir = fs.mkdtempSync(path.join(path.resolve(__dirname, '..'), '.tmp-bad-'));
    const main = path.join(dir, 'main.ts');
    fs.writeFileSync(main, `
      import { App, TerraformStack } from 'cdktf';
      import { BeamMesh } from '${path.resolve(__dirname, '..', 'lib')}';
      const app = new App();
      const stack = new TerraformStack(app, 'bad');
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
      const a = mesh.addNode('A', { nodeName: 'a@h.x' });
      mesh.connect(a, a);
      app.synth();
    `);
    const tsNode = path.resolve(__dirname, '..', 'node_modules', '.bin', 'ts-node');
    const r = spawnSync(
      path.resolve(__dirname, '..', 'node_modules', '.bin', 'cdktf'),
      [
        'synth',
        '--app',
        `${tsNode} --transpile-only --project ${path.resolve(__dirname, '..', 'tsconfig.dev.json')} ${main}`,
        '--output',
        path.join(dir, 'out'),
      ],
      {
        cwd: path.resolve(__dirname, '..'),
        env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' },
        encoding: 'utf8',
      },
    );
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("[bad/Mesh] cannot connect node 'a@h.x' (bad/Mesh/A) to itself");
  });
});

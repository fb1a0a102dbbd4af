import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { ReleaseClusterStack } from '../../examples/release-cluster/stack';
import { TwoNodesStack } from '../../examples/two-nodes/stack';
import { BeamMesh } from '../../lib';
import { graphsFromPlan } from '../../lib/review/plan';
import { diffGraphs } from '../../lib/review/graph';
import { synthToDir } from '../../support/synth';

/** A module of `terraform show -json`: synthesized resource bodies as resource values. */
function planModule(stackJson: any): any {
  const resources = [];
  for (const [type, byName] of Object.entries<any>(stackJson.resource)) {
    for (const [name, values] of Object.entries<any>(byName)) {
      const { provider, depends_on, lifecycle, ...rest } = values;
      resources.push({ address: `${type}.${name}`, mode: 'managed', type, name, values: rest });
    }
  }
  return { resources };
}

describe('graph from a saved Terraform plan', () => {
  const cluster = (hosts: string[]) => synthToDir((app) => new ReleaseClusterStack(app, 'release-cluster', { hosts })).stackJson;

  test('edges the plan adds, removes and keeps against the deployed state', () => {
    const plan = {
      format_version: '1.2',
      prior_state: { values: { root_module: planModule(cluster(['a.x', 'b.x', 'c.x'])) } },
      planned_values: { root_module: { resources: [], child_modules: [planModule(cluster(['a.x', 'b.x', 'd.x']))] } },
    };
    const { before, after } = graphsFromPlan(plan);
    expect(before.nodes.map((n) => n.node)).toEqual(['app@a.x', 'app@b.x', 'app@c.x']);
    expect(after.nodes.map((n) => n.node)).toEqual(['app@a.x', 'app@b.x', 'app@d.x']);
    const d = diffGraphs(before, after);
    const names = (es: Array<{ from: string; to: string }>) => es.map((e) => `${e.from}>${e.to}`);
    expect(names(d.kept)).toEqual(['app@a.x>app@b.x', 'app@b.x>app@a.x']);
    expect(names(d.removed)).toEqual(['app@a.x>app@c.x', 'app@b.x>app@c.x', 'app@c.x>app@a.x', 'app@c.x>app@b.x']);
    expect(names(d.added)).toEqual(['app@a.x>app@d.x', 'app@b.x>app@d.x', 'app@d.x>app@a.x', 'app@d.x>app@b.x']);
  });

  test('a first deploy has no prior state: every edge is added (CONFIG_ENTRY intentions read from config_json)', () => {
    const plan = {
      format_version: '1.2',
      planned_values: { root_module: planModule(synthToDir((app) => new TwoNodesStack(app, 'two-nodes')).stackJson) },
    };
    const d = diffGraphs(graphsFromPlan(plan).before, graphsFromPlan(plan).after);
    expect(d.added.map((e) => `${e.from}>${e.to}:${e.intention}`)).toEqual([
      'billing@billing-1.shop.test>orders@orders-1.shop.test:allow',
      'orders@orders-1.shop.test>billing@billing-1.shop.test:allow',
    ]);
    expect(d.removed).toEqual([]);
  });

  test('a group added by the plan: one vertex, its edges added', () => {
    const shop = (withGroup: boolean) => synthToDir((app) => {
      const stack = new TerraformStack(app, 'shop');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'shop' });
      mesh.addNode('Db', { nodeName: 'db@db-1.x' });
      if (withGroup) mesh.connectAll();
      if (withGroup) mesh.addReplicas('Api', { alive: 'api' });
      return stack;
    }).stackJson;
    const plan = {
      format_version: '1.2',
      prior_state: { values: { root_module: planModule(shop(false)) } },
      planned_values: { root_module: planModule(shop(true)) },
    };
    const { before, after } = graphsFromPlan(plan);
    expect(before.nodes.map((n) => n.node)).toEqual(['db@db-1.x']);
    expect(after.nodes).toContainEqual({ node: 'api@* (group shop-api)', service: 'shop-api', group: true });
    expect(diffGraphs(before, after).added.map((e) => `${e.from}>${e.to}`)).toEqual([
      'api@* (group shop-api)>api@* (group shop-api)',
      'api@* (group shop-api)>db@db-1.x',
      'db@db-1.x>api@* (group shop-api)',
    ]);
  });

  test('anything else is refused with what to run instead', () => {
    expect(() => graphsFromPlan({ resource: {} }, 'x.json')).toThrow(
      "x.json is not the JSON of a saved plan: make it with 'terraform plan -out=PLAN' and 'terraform show -json PLAN'",
    );
    expect(() => graphsFromPlan(null)).toThrow('not the JSON of a saved plan');
  });
});

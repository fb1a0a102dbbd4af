// The production path: `cdktf deploy` through the real Terraform CLI and the Consul provider in
// the local mirror (the real one when a binary of it is given; here the stand-in of
// support/go/provider-standin, since the Go module proxy refuses the real module), nodes booted
// from what the provider wrote (--kv, with the tokens it created), a changed stack diffed and deployed again, and
// `cdktf destroy` leaving the agent empty. CONFIG_ENTRY intentions (the default) run on a
// Consul 1.14 built from Go modules; LEGACY on the Debian Consul 1.8.7.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CdktfProject } from '../../support/cdktf-project';
import { setIntentionEntry } from '../../support/intentions';
import { leftovers } from '../../support/leftovers';
import { consulMinor, DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { BIN, MeshNode } from '../../support/mesh-node';
import { TerraformStackDir, terraformEnv, toolPaths, writeTokenFile } from '../../support/terraform';

jest.setTimeout(600_000);

const COOKIE = 'deploy-cookie-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.shop.test';
const BILLING = 'billing@billing-1.shop.test';
const SHIPPING = 'shipping@shipping-1.shop.test';

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || '/tmp', `meshx-${name}-`));
}

describe(`cdktf deploy through the Terraform CLI (Consul provider from the mirror: ${toolPaths().providerKind})`, () => {
  test('the provider comes from the local mirror and the Consul for config entries is 1.9 to 1.14', () => {
    const t = toolPaths();
    expect(fs.readFileSync(t.cliConfig, 'utf8')).toMatch(/filesystem_mirror/);
    const mirror = /path\s*=\s*"([^"]+)"/.exec(fs.readFileSync(t.cliConfig, 'utf8'))![1];
    expect(fs.existsSync(path.join(mirror, 'registry.terraform.io/hashicorp/consul/2.22.1/linux_amd64/terraform-provider-consul_v2.22.1'))).toBe(
      true,
    );
    expect(t.consulConfigEntriesBin).toBeDefined();
    const minor = consulMinor(t.consulConfigEntriesBin!);
    expect(minor).toBeGreaterThanOrEqual(9);
    expect(minor).toBeLessThanOrEqual(14);
  });

  describe('two-nodes (CONFIG_ENTRY, ACLs on) on Consul 1.14: deploy, boot from KV, change, diff, deploy, destroy', () => {
    const master = randomUUID();
    let agent: DevAgent;
    let project: CdktfProject;
    let work: string;
    const nodes: MeshNode[] = [];

    const bootFromKv = async (service: string, node: string) => {
      const accessors = await new TerraformStackDir(project.stackDir('two-nodes'), terraformEnv(agent)).tokenAccessors();
      expect(accessors[service]).toBeDefined();
      const tokenFile = await writeTokenFile(agent.api, accessors[service], path.join(work, `${service}.token`));
      const n = await MeshNode.start({
        kv: `meshx/shop/nodes/${service}`,
        node,
        consulAddr: agent.httpAddr,
        cookie: COOKIE,
        tokenFile,
        stateDir: path.join(work, `state-${service}`),
      });
      nodes.push(n);
      return n;
    };

    beforeAll(async () => {
      agent = await DevAgent.start({ aclMasterToken: master, consulBin: toolPaths().consulConfigEntriesBin });
      work = tmpDir('deploy');
      project = new CdktfProject('examples/two-nodes/main.ts', agent);
    });

    afterAll(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
      await agent?.stop();
      project?.remove();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    test('cdktf deploy writes manifests, service-intentions entries, policies and tokens', async () => {
      await project.deploy('two-nodes');
      expect(JSON.parse((await agent.api.request('GET', '/v1/kv/meshx/shop/nodes/?keys')).text)).toEqual([
        'meshx/shop/nodes/shop-billing',
        'meshx/shop/nodes/shop-orders',
      ]);
      const entry = JSON.parse((await agent.api.request('GET', '/v1/config/service-intentions/shop-billing')).text);
      expect(entry.Sources.map((s: any) => `${s.Name}:${s.Action}`)).toEqual(['shop-orders:allow', '*:deny']);
      const defaults = JSON.parse((await agent.api.request('GET', '/v1/config/service-defaults/shop-orders')).text);
      expect(defaults.Protocol).toBe('tcp');
    });

    test('nodes boot from what the provider wrote (--kv, their own tokens) and ping each other', async () => {
      const [orders, billing] = await Promise.all([bootFromKv('shop-orders', ORDERS), bootFromKv('shop-billing', BILLING)]);
      await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing']);
      expect(await orders.ping(BILLING)).toBe('pong');
      expect(await billing.ping(ORDERS)).toBe('pong');
    });

    test('the intention changed to deny on the agent: a new connection gets pang', async () => {
      // By name: nodes are pushed as their boots finish, in no fixed order.
      const orders = nodes.find((n) => n.name === ORDERS)!;
      await setIntentionEntry(agent.api, 'shop-orders', 'shop-billing', 'deny');
      // The agent's proxies learn of the change asynchronously: new connections until pang.
      expect(await orders.pingUntil(BILLING, 'pang')).toBe('pang');
      // Terraform puts it back: the drift is corrected by the next deploy.
      await project.deploy('two-nodes');
      expect(await orders.pingUntil(BILLING, 'pong')).toBe('pong');
    });

    test('a changed stack (a node added, an edge removed): cdktf diff shows it, deploy applies it, the restarted nodes follow', async () => {
      project.setApp('support/apps/shop-grown.ts');
      const diff = await project.diff('two-nodes');
      expect(diff.stdout).toMatch(/Plan: \d+ to add, \d+ to change, \d+ to destroy/);
      expect(diff.stdout).toMatch(/shop-shipping/);
      // The review of the saved plan: which who-may-talk-to-whom edges it adds and removes.
      const planDir = new TerraformStackDir(project.stackDir('two-nodes'), terraformEnv(agent));
      fs.writeFileSync(path.join(work, 'plan.json'), JSON.stringify(await planDir.plan()));
      const review = spawnSync(process.execPath, [BIN, 'graph', '--plan', path.join(work, 'plan.json'), '--format', 'json'], { encoding: 'utf8' });
      expect(review.status).toBe(0);
      const edges = JSON.parse(review.stdout);
      const names = (list: any[]) => list.map((e) => `${e.from} -> ${e.to}`).sort();
      expect(names(edges.added)).toEqual([`${ORDERS} -> ${SHIPPING}`, `${SHIPPING} -> ${ORDERS}`]);
      expect(names(edges.removed)).toEqual([`${BILLING} -> ${ORDERS}`, `${ORDERS} -> ${BILLING}`]);

      await project.deploy('two-nodes');
      await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
      const [orders, billing, shipping] = await Promise.all([
        bootFromKv('shop-orders', ORDERS),
        bootFromKv('shop-billing', BILLING),
        bootFromKv('shop-shipping', SHIPPING),
      ]);
      await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing', 'shop-shipping']);
      expect(await orders.ping(SHIPPING)).toBe('pong');
      expect(await shipping.ping(ORDERS)).toBe('pong');
      expect(await orders.ping(BILLING)).toBe('pang');
      expect(await billing.ping(ORDERS)).toBe('pang');
    });

    test('cdktf destroy leaves the agent empty', async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
      await project.destroy('two-nodes');
      expect(await leftovers(agent.api)).toEqual([]);
    });
  });

  describe('release-cluster (LEGACY, ACLs on) on Consul 1.8.7', () => {
    const master = randomUUID();
    let agent: DevAgent;
    let project: CdktfProject;
    let work: string;
    const nodes: MeshNode[] = [];

    beforeAll(async () => {
      agent = await DevAgent.start({ aclMasterToken: master });
      expect(consulMinor('consul')).toBe(8);
      work = tmpDir('deploy-legacy');
      project = new CdktfProject('examples/release-cluster/main.ts', agent);
    });

    afterAll(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
      await agent?.stop();
      project?.remove();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    test('deploy, boot three app@<host> nodes from KV with their tokens, full ping matrix, destroy leaves the agent empty', async () => {
      await project.deploy('release-cluster');
      const accessors = await new TerraformStackDir(project.stackDir('release-cluster'), terraformEnv(agent)).tokenAccessors();
      expect(Object.keys(accessors).sort()).toEqual(['release-app1', 'release-app2', 'release-app3']);
      const names = ['app@app-1.cluster.test', 'app@app-2.cluster.test', 'app@app-3.cluster.test'];
      nodes.push(...(await Promise.all(names.map(async (node, i) => {
        const svc = `release-app${i + 1}`;
        const tokenFile = await writeTokenFile(agent.api, accessors[svc], path.join(work, `${svc}.token`));
        return MeshNode.start({
          kv: `meshx/release/nodes/${svc}`,
          node,
          consulAddr: agent.httpAddr,
          cookie: COOKIE,
          tokenFile,
          stateDir: path.join(work, `state-${svc}`),
        });
      }))));
      await waitDiscoverable(agent.api, ['release-app1', 'release-app2', 'release-app3']);
      for (const a of nodes)
        for (const b of names.filter((n) => n !== a.name)) expect(`${a.name} -> ${b}: ${await a.ping(b)}`).toBe(`${a.name} -> ${b}: pong`);
      await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
      await project.destroy('release-cluster');
      expect(await leftovers(agent.api)).toEqual([]);
    });
  });

  describe('composed (a mesh inside a larger stack, aliased provider, datacenter dc2) on Consul 1.14', () => {
    const master = randomUUID();
    let agent: DevAgent;
    let project: CdktfProject;

    beforeAll(async () => {
      agent = await DevAgent.start({ aclMasterToken: master, consulBin: toolPaths().consulConfigEntriesBin, datacenter: 'dc2' });
      project = new CdktfProject('support/apps/composed.ts', agent);
    });

    afterAll(async () => {
      await agent?.stop();
      project?.remove();
    });

    test('deploys beside the platform resources; destroy leaves only what the platform did not mark for deletion', async () => {
      await project.deploy('composed');
      const keys = JSON.parse((await agent.api.request('GET', '/v1/kv/?keys')).text);
      expect(keys.sort()).toEqual([
        'platform/flags/new-checkout',
        'platform/meshx/payments/nodes/payments-api',
        'platform/meshx/payments/nodes/payments-audit',
        'platform/meshx/payments/nodes/payments-ledger',
      ]);
      const ledger = JSON.parse((await agent.api.request('GET', '/v1/config/service-intentions/payments-ledger')).text);
      expect(ledger.Sources.map((s: any) => `${s.Name}:${s.Action}`)).toEqual(['payments-api:allow', 'payments-audit:allow', '*:deny']);
      const manifest = JSON.parse((await agent.api.kvGet('platform/meshx/payments/nodes/payments-api'))!);
      expect(manifest.node).toBe('api@api-1.dc2.internal');
      await project.destroy('composed');
      // The platform's flag has no `delete = true`: the provider leaves such keys on destroy.
      expect(await leftovers(agent.api)).toEqual(['kv platform/flags/new-checkout']);
    });
  });
});

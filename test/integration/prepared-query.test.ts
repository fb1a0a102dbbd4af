// consul_prepared_query through `cdktf deploy`, the real Terraform CLI and the Consul provider in
// the local mirror (the stand-in of support/go/provider-standin while the real module is refused),
// against a real Consul dev agent with ACLs on: the prepared-query template replicas (issue 24)
// will rest on (docs/design/replicas-probe.md, Q2). On Consul 1.14 the template is stored with
// `${match(N)}` literally, resolves a query name to exactly one instance by its Meta.erlang_node,
// plans empty after apply and after an import, is put back after drift or deletion, and is gone
// after destroy.
// Consul 1.8.7 refuses the create: consul/api (v1.32.1 in the real provider 2.22.1, v1.34.5 here)
// always sends Service.Failover.Targets, a field 1.8 does not know, and 1.8 rejects unknown fields.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CdktfProject } from '../../support/cdktf-project';
import { consulMinor, DevAgent } from '../../support/consul-dev-agent';
import { runTool, TerraformStackDir, terraformEnv, toolPaths } from '../../support/terraform';

jest.setTimeout(600_000);

const STACK = 'prepared-query';
const ALL = 'prepared-query-all';
const REGEXP = '^meshx~shop~([a-z0-9-]+)~([A-Za-z0-9_-]+@[A-Za-z0-9.-]+)$';

describe('consul_prepared_query template on Consul 1.14.11 (ACLs on): deploy, execute, plan, drift, import, destroy', () => {
  const master = randomUUID();
  let agent: DevAgent;
  let project: CdktfProject;
  let dir: TerraformStackDir;

  const queries = async (): Promise<any[]> => {
    const r = await agent.api.request('GET', '/v1/query');
    expect(r.status).toBe(200);
    return JSON.parse(r.text) ?? [];
  };

  /** The IDs of the instances a query name resolves to. */
  const execute = async (name: string): Promise<string[]> => {
    const r = await agent.api.request('GET', `/v1/query/${name}/execute`);
    if (r.status !== 200) throw new Error(`executing ${name}: ${r.status} ${r.text}`);
    return JSON.parse(r.text).Nodes.map((n: any) => n.Service.ID).sort();
  };

  /** The resource's address in the synthesized stack. */
  const address = (): string => {
    const synth = JSON.parse(fs.readFileSync(path.join(dir.dir, 'cdk.tf.json'), 'utf8'));
    return `consul_prepared_query.${Object.keys(synth.resource.consul_prepared_query)[0]}`;
  };

  /** What a fresh `terraform plan` would do, as "address: actions" ("no-op" when nothing). */
  const planned = async (): Promise<string[]> => {
    const plan = await dir.plan();
    return (plan.resource_changes ?? []).map((c: any) => `${c.address}: ${c.change.actions.join('+')}`);
  };

  const tf = (...args: string[]) => runTool([toolPaths().terraformBin, ...args], { cwd: dir.dir, env: terraformEnv(agent) });

  beforeAll(async () => {
    const consulBin = toolPaths().consulConfigEntriesBin;
    expect(consulBin && consulMinor(consulBin)).toBe(14);
    agent = await DevAgent.start({ aclMasterToken: master, consulBin });
    project = new CdktfProject('support/apps/prepared-query.ts', agent);
    dir = new TerraformStackDir(project.stackDir(STACK), terraformEnv(agent));
  });

  afterAll(async () => {
    await agent?.stop();
    project?.remove();
  });

  test('cdktf deploy creates the template; Consul holds ${match(N)} literally', async () => {
    await project.deploy(STACK);
    const all = await queries();
    expect(all).toHaveLength(1);
    const q = all[0];
    expect(q.Name).toBe('meshx~shop~');
    expect(q.Template).toMatchObject({ Type: 'name_prefix_match', Regexp: REGEXP });
    expect(q.Service.Service).toBe('${match(1)}');
    expect(q.Service.ServiceMeta).toEqual({ erlang_node: '${match(2)}', meshx_mesh: 'shop' });
    expect(q.Service.OnlyPassing).toBe(true);
    const [r] = (await dir.resources()).filter((x) => x.type === 'consul_prepared_query');
    expect(r.values.id).toBe(q.ID);
    expect(r.values.template).toEqual([{ type: 'name_prefix_match', regexp: REGEXP, remove_empty_tags: false }]);
    expect(r.values.service).toBe('${match(1)}');
    expect([r.values.dns, r.values.failover]).toEqual([[], []]);
  });

  test('executing meshx~shop~api~<alive@host> returns exactly the instance with that erlang_node', async () => {
    const register = (id: string, node: string, mesh: string) =>
      agent.api.registerService({ ID: id, Name: 'api', Port: 9000, Meta: { erlang_node: node, meshx_mesh: mesh } });
    await register('api-1', 'api@h1.x', 'shop');
    await register('api-2', 'api@h2.x', 'shop');
    // Same node name in another mesh: the template's meshx_mesh keeps it out.
    await register('api-3', 'api@h2.x', 'other');
    expect(await execute('meshx~shop~api~api@h2.x')).toEqual(['api-2']);
    expect(await execute('meshx~shop~api~api@h1.x')).toEqual(['api-1']);
    // Meta values match exactly: another host or another case finds nothing.
    expect(await execute('meshx~shop~api~api@h3.x')).toEqual([]);
    expect(await execute('meshx~shop~api~api@H2.x')).toEqual([]);
  });

  test('a second terraform plan is empty (no permanent diff)', async () => {
    expect(await planned()).toEqual([`${address()}: no-op`]);
  });

  test('a change made on the agent shows in the plan, and the next deploy puts it back', async () => {
    const [q] = await queries();
    const r = await agent.api.request('PUT', `/v1/query/${q.ID}`, { ...q, Service: { ...q.Service, OnlyPassing: false } });
    expect(r.status).toBe(200);
    expect((await queries())[0].Service.OnlyPassing).toBe(false);
    expect(await planned()).toEqual([`${address()}: update`]);
    await project.deploy(STACK);
    const after = await queries();
    expect(after.map((x) => [x.ID, x.Service.OnlyPassing])).toEqual([[q.ID, true]]);
    expect(await planned()).toEqual([`${address()}: no-op`]);
  });

  test('a query deleted on the agent is planned anew (the 404 clears the ID) and the next deploy creates it', async () => {
    const [q] = await queries();
    expect((await agent.api.request('DELETE', `/v1/query/${q.ID}`)).status).toBe(200);
    expect(await planned()).toEqual([`${address()}: create`]);
    await project.deploy(STACK);
    const after = await queries();
    expect(after.map((x) => [x.Name, x.ID === q.ID])).toEqual([['meshx~shop~', false]]);
    expect(await execute('meshx~shop~api~api@h2.x')).toEqual(['api-2']);
    expect(await planned()).toEqual([`${address()}: no-op`]);
  });

  test('terraform import by ID reads the whole query back: the plan stays empty', async () => {
    const [q] = await queries();
    await tf('state', 'rm', '-no-color', address());
    expect(await planned()).toEqual([`${address()}: create`]);
    await tf('import', '-input=false', '-no-color', address(), q.ID);
    expect(await planned()).toEqual([`${address()}: no-op`]);
  });

  test('every other attribute and block reads back as configured: the plan after apply is empty', async () => {
    await project.deploy(ALL);
    const all = new TerraformStackDir(project.stackDir(ALL), terraformEnv(agent));
    const plan = await all.plan();
    const actions = (plan.resource_changes ?? []).map((c: any) => c.change.actions.join('+'));
    expect(actions).toEqual(['no-op', 'no-op']);
    const byName = Object.fromEntries((await queries()).map((q) => [q.Name, q]));
    expect(byName['meshx-all-attributes'].Service).toMatchObject({
      Service: 'api',
      Tags: expect.arrayContaining(['blue', '!canary', 'arm64']),
      Near: '_agent',
      OnlyPassing: true,
      Connect: true,
      IgnoreCheckIDs: ['serfHealth', 'api-ttl'],
      NodeMeta: { rack: 'r1' },
      ServiceMeta: { meshx_mesh: 'shop', version: '2' },
      Failover: { Targets: [{ Datacenter: 'dc2', Peer: '' }, { Datacenter: 'dc3', Peer: '' }] },
    });
    expect(byName['meshx-all-attributes'].DNS).toEqual({ TTL: '15s' });
    expect(byName['meshx-all-attributes'].Token).toBe('00000000-0000-4000-8000-000000000001');
    expect(byName['meshx-failover-nearest'].Service.Failover).toMatchObject({ NearestN: 2, Datacenters: ['dc2', 'dc3'] });
    expect(byName['meshx-failover-nearest'].Template.RemoveEmptyTags).toBe(true);
    await project.destroy(ALL);
    expect((await queries()).map((q) => q.Name)).toEqual(['meshx~shop~']);
  });

  test('cdktf destroy removes the query', async () => {
    await project.destroy(STACK);
    expect(await queries()).toEqual([]);
    // The template is gone: its names no longer resolve.
    const r = await agent.api.request('GET', '/v1/query/meshx~shop~api~api@h2.x/execute');
    expect(r.status).toBe(404);
  });
});

describe('consul_prepared_query on Consul 1.8.7 (ACLs on)', () => {
  let agent: DevAgent;
  let project: CdktfProject;

  beforeAll(async () => {
    expect(consulMinor('consul')).toBe(8);
    agent = await DevAgent.start({ aclMasterToken: randomUUID() });
    project = new CdktfProject('support/apps/prepared-query.ts', agent);
  });

  afterAll(async () => {
    await agent?.stop();
    project?.remove();
  });

  test('cdktf deploy fails: Consul 1.8 refuses the Failover.Targets field that consul/api sends; nothing is created', async () => {
    const err: Error = await project.deploy(STACK).then(
      () => new Error('cdktf deploy succeeded'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/failed to create prepared query "meshx~shop~"/);
    expect(err.message).toMatch(/Unexpected response code: 400 \(Request decode failed: json: unknown field "Targets"\)/);
    const r = await agent.api.request('GET', '/v1/query');
    expect([r.status, JSON.parse(r.text) ?? []]).toEqual([200, []]);
  });
});

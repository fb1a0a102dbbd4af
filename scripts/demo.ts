// The demo: `cdktf deploy` examples/two-nodes through the real Terraform Consul provider to a
// throwaway Consul 1.14 agent with ACLs on, boot both nodes from what the provider wrote (their
// manifests in KV, their own tokens), show pong, deny the pair, show pang, stop the nodes and
// `cdktf destroy`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { CdktfProject } from '../support/cdktf-project';
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { setIntentionEntry } from '../support/intentions';
import { leftovers } from '../support/leftovers';
import { MeshNode, waitGone } from '../support/mesh-node';
import { TerraformStackDir, terraformEnv, toolPaths, writeTokenFile } from '../support/terraform';

const STEPS = 8;
const say = (n: number, msg: string) => console.log(`\n\x1b[1m[demo ${n}/${STEPS}]\x1b[0m ${msg}`);
const ok = (msg: string) => console.log(`  \u2713 ${msg}`);
const NODES = [
  { node: 'orders@orders-1.shop.test', service: 'shop-orders' },
  { node: 'billing@billing-1.shop.test', service: 'shop-billing' },
];

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`demo expectation failed: ${msg}`);
  ok(msg);
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-demo-'));
  const cookie = randomUUID();
  let agent: DevAgent | undefined;
  let project: CdktfProject | undefined;
  let deployed = false;
  const nodes: MeshNode[] = [];
  try {
    say(1, 'start a throwaway Consul agent (ACLs on, default deny)');
    agent = await DevAgent.start({ aclMasterToken: randomUUID(), consulBin: toolPaths().consulConfigEntriesBin });
    ok(`Consul ${(await agent.api.self()).version} at ${agent.httpAddr}`);

    say(2, 'cdktf deploy examples/two-nodes (Terraform Consul provider from the local mirror)');
    project = new CdktfProject('examples/two-nodes/main.ts', agent);
    const deploy = await project.deploy('two-nodes');
    deployed = true;
    const summary = /Apply complete! Resources: [^\n]*/.exec(deploy.stdout);
    ok(summary ? summary[0].trim() : 'applied');
    const stack = new TerraformStackDir(project.stackDir('two-nodes'), terraformEnv(agent));
    const resources = await stack.resources();
    for (const r of resources.filter((x) => x.type === 'consul_config_entry' && x.values.kind === 'service-intentions')) {
      ok(`service-intentions ${r.values.name}: ${JSON.parse(r.values.config_json).Sources.map((s: any) => `${s.Name} ${s.Action}`).join(', ')}`);
    }
    for (const r of resources.filter((x) => x.type === 'consul_keys')) ok(`manifest in KV: ${r.values.key.map((k: any) => k.path).join(', ')}`);

    say(3, 'read each node\'s token (as an operator would: consul acl token read -id <accessor>)');
    const accessors = await stack.tokenAccessors();
    for (const n of NODES) {
      await writeTokenFile(agent.api, accessors[n.service], path.join(work, `${n.service}.token`));
      ok(`${n.service}: accessor ${accessors[n.service]}, secret in a 0600 file`);
    }

    say(4, 'boot both nodes with meshx-node run --kv (built-in sidecar proxies)');
    for (const n of NODES)
      console.log(
        `  $ meshx-node run --kv meshx/shop/nodes/${n.service} --token-file ${n.service}.token -- erl -name ${n.node} -setcookie *** -noshell`,
      );
    nodes.push(
      ...(await Promise.all(
        NODES.map((n) =>
          MeshNode.start({
            kv: `meshx/shop/nodes/${n.service}`,
            node: n.node,
            consulAddr: agent!.httpAddr,
            cookie,
            tokenFile: path.join(work, `${n.service}.token`),
            stateDir: path.join(work, `state-${n.service}`),
          }),
        ),
      )),
    );
    const [orders, billing] = nodes;
    for (const n of nodes) ok(`${n.name}: ${n.output.match(/registered \S+ \(([^)]*)\)/)![1]}; health passing`);
    await waitDiscoverable(agent.api, NODES.map((n) => n.service));
    ok('both sidecars are passing in the catalog, where peers look them up');

    say(5, "net_adm:ping from orders to billing, through both sidecars' mTLS");
    const pong = await orders.ping(billing.name);
    check(pong === 'pong', `net_adm:ping('${billing.name}') = ${pong}`);
    const remote = await orders.eval(`rpc:call(list_to_atom("${billing.name}"), erlang, node, [])`);
    check(remote === `'${billing.name}'`, `rpc:call(billing, erlang, node, []) = ${remote}`);

    say(6, 'deny shop-orders -> shop-billing (and back) in the service-intentions entries, drop the connection, ping again');
    await setIntentionEntry(agent.api, 'shop-orders', 'shop-billing', 'deny');
    await setIntentionEntry(agent.api, 'shop-billing', 'shop-orders', 'deny');
    // The proxies learn of the change asynchronously: new connections until refused (bounded).
    const pang = await orders.pingUntil(billing.name, 'pang');
    check(pang === 'pang', `net_adm:ping('${billing.name}') = ${pang} (the sidecar refused: intention deny)`);

    say(7, 'stop both nodes');
    const pids = nodes.flatMap((n) => [n.pidOf('proxy'), n.pidOf('beam')]);
    const codes = await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    check(codes.every((c) => c === 0), `helpers exited ${codes.join(', ')}`);
    const services = JSON.parse((await agent.api.request('GET', '/v1/agent/services')).text);
    check(Object.keys(services).length === 0, 'no service left registered');
    check(await waitGone(pids), 'no proxy or BEAM process left');

    say(8, 'cdktf destroy');
    const destroy = await project.destroy('two-nodes');
    deployed = false;
    ok(/Destroy complete! Resources: [^\n]*/.exec(destroy.stdout)?.[0].trim() ?? 'destroyed');
    const left = await leftovers(agent.api);
    check(left.length === 0, `nothing of the stack left on the agent${left.length ? `: ${left.join(', ')}` : ''}`);
    console.log('\nDemo complete.');
  } catch (e) {
    for (const n of nodes) console.error(`\n--- output of ${n.name} ---\n${n.output}`);
    throw e;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    if (deployed) await project?.destroy('two-nodes').catch(() => undefined);
    await agent?.stop();
    project?.remove();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// `npm run demo -- --hosts N`: the same story on a production-shaped N-host cluster.
const hostsAt = process.argv.indexOf('--hosts');
const run = hostsAt > 0 ? import('./demo-cluster').then((m) => m.clusterDemo(Number(process.argv[hostsAt + 1]))) : main();
run.catch((e) => {
  console.error(`\n${(e as Error).message}`);
  process.exit(1);
});

// The demo: synthesize examples/two-nodes with the real cdktf CLI, start a throwaway Consul dev
// agent, boot both nodes with `meshx-node run`, show pong, deny the pair, show pang, stop all.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manifestsFrom, readSynth } from '../lib/manifest/extract';
import { applySynth, setIntention } from '../support/apply-synth';
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { MeshNode, ROOT, waitGone } from '../support/mesh-node';

const say = (n: number, msg: string) => console.log(`\n\x1b[1m[demo ${n}/7]\x1b[0m ${msg}`);
const ok = (msg: string) => console.log(`  \u2713 ${msg}`);

function check(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`demo expectation failed: ${msg}`);
  ok(msg);
}

/** cdktf runs terraform, which warns about a missing ~/.terraformrc; give it an empty one. */
function emptyRc(dir: string): string {
  const f = path.join(dir, 'terraformrc');
  fs.writeFileSync(f, '');
  return f;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-demo-'));
  const out = path.join(work, 'cdktf.out');
  const cookie = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  let agent: DevAgent | undefined;
  const nodes: MeshNode[] = [];
  try {
    say(1, 'cdktf synth examples/two-nodes');
    execFileSync('npx', ['cdktf', 'synth', '--output', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: emptyRc(work) } });
    const manifests = manifestsFrom(out);
    for (const f of manifests) ok(`${f.manifest.node}: service ${f.manifest.service.name}, upstreams ${f.manifest.upstreams.map((u) => `${u.node} via ${u.address}`).join(', ')}`);

    say(2, 'start a throwaway Consul dev agent');
    agent = await DevAgent.start();
    const self = await agent.api.self();
    ok(`Consul ${self.version} at ${agent.httpAddr}`);

    say(3, 'apply the synthesized manifests and intentions to the agent');
    const applied = await applySynth(agent.api, readSynth(path.join(out, 'stacks', 'two-nodes', 'cdk.tf.json')));
    ok(`KV: ${applied.kvKeys.join(', ')}`);
    for (const i of applied.intentions) ok(`intention ${i.source} -> ${i.destination}: ${i.action}`);

    say(4, 'boot both nodes with meshx-node run (built-in sidecar proxies)');
    for (const node of ['orders@orders-1.shop.test', 'billing@billing-1.shop.test']) {
      console.log(`  $ meshx-node run --from ${out} --node ${node} -- erl -name ${node} -setcookie *** -noshell`);
    }
    nodes.push(...(await Promise.all(['orders@orders-1.shop.test', 'billing@billing-1.shop.test'].map((node) => MeshNode.start({ from: out, node, consulAddr: agent!.httpAddr, cookie })))));
    const [orders, billing] = nodes;
    for (const n of nodes) ok(`${n.name}: ${n.output.match(/registered \S+ \(([^)]*)\)/)![1]}; health passing`);
    await waitDiscoverable(agent.api, ['shop-orders', 'shop-billing']);
    ok('both sidecars are passing in the catalog, where peers look them up');

    say(5, "net_adm:ping from orders to billing, through both sidecars' mTLS");
    const pong = await orders.ping(billing.name);
    check(pong === 'pong', `net_adm:ping('${billing.name}') = ${pong}`);
    const remote = await orders.eval(`rpc:call(list_to_atom("${billing.name}"), erlang, node, [])`);
    check(remote === `'${billing.name}'`, `rpc:call(billing, erlang, node, []) = ${remote}`);

    say(6, 'deny shop-orders -> shop-billing (and back), drop the connection, ping again');
    await setIntention(agent.api, 'shop-orders', 'shop-billing', 'deny');
    await setIntention(agent.api, 'shop-billing', 'shop-orders', 'deny');
    await orders.eval(`erlang:disconnect_node(list_to_atom("${billing.name}"))`);
    const pang = await orders.ping(billing.name);
    check(pang === 'pang', `net_adm:ping('${billing.name}') = ${pang} (the sidecar refused: intention deny)`);

    say(7, 'stop everything');
    const pids = nodes.flatMap((n) => [n.pidOf('proxy'), n.pidOf('beam')]);
    const codes = await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    check(codes.every((c) => c === 0), `helpers exited ${codes.join(', ')}`);
    const services = JSON.parse((await agent.api.request('GET', '/v1/agent/services')).text);
    check(Object.keys(services).length === 0, 'no service left registered');
    check(await waitGone(pids), 'no proxy or BEAM process left');
    console.log('\nDemo complete.');
  } catch (e) {
    for (const n of nodes) console.error(`\n--- output of ${n.name} ---\n${n.output}`);
    throw e;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await agent?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`\n${(e as Error).message}`);
  process.exit(1);
});

// Peer hosts past 127.0.0.254 (lib/manifest/loopback.ts: the whole 127.0.0.0/8): two real BEAMs
// under the real helper, a Consul 1.8 dev agent and its built-in proxies, each node reaching the
// other's host on an address the old 127.0.0.2-254 range did not have. Manifests written by hand
// (what the synth gives the 254th and later peer hosts), so no Terraform run is needed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { BeamMesh, IntentionsMode, NodeManifest, ProxyKind } from '../../lib';
import { validateManifest } from '../../lib/manifest/validate';
import { listeningSockets } from '../../lib/runtime/proxy/listeners';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { setIntention } from '../../support/intentions';
import { MeshNode } from '../../support/mesh-node';

jest.setTimeout(180_000);

const COOKIE = 'loopback-cookie-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.range.test';
const BILLING = 'billing@billing-1.range.test';
// Last octets 0 and 255: ordinary hosts of 127.0.0.0/8, used by the numbering (peer hosts 255 and 510).
const BILLING_SEEN_BY_ORDERS = '127.0.1.0';
const ORDERS_SEEN_BY_BILLING = '127.0.1.255';

describe('a peer host on an address past 127.0.0.254', () => {
  let agent: DevAgent;
  let dir: string;
  const nodes: MeshNode[] = [];

  beforeAll(async () => {
    agent = await DevAgent.start();
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-loopback-'));
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The manifests of a two-node mesh, each peer host moved to `address`, validated, written to a file. */
  function manifestFiles(): Record<string, string> {
    const stack = new TerraformStack(Testing.app(), 'range');
    new ConsulProvider(stack, 'consul', {});
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'range', intentionsMode: IntentionsMode.LEGACY, acl: false, proxy: ProxyKind.BUILTIN });
    const orders = mesh.addNode('Orders', { nodeName: ORDERS });
    const billing = mesh.addNode('Billing', { nodeName: BILLING });
    mesh.connect(orders, billing);
    const files: Record<string, string> = {};
    for (const [node, address] of [[orders, BILLING_SEEN_BY_ORDERS], [billing, ORDERS_SEEN_BY_BILLING]] as const) {
      const m: NodeManifest = { ...node.manifest, upstreams: node.manifest.upstreams.map((u) => ({ ...u, address })) };
      validateManifest(JSON.parse(JSON.stringify(m)));
      files[node.nodeName] = path.join(dir, `${node.serviceName}.json`);
      fs.writeFileSync(files[node.nodeName], JSON.stringify(m));
    }
    return files;
  }

  test('resolves to it, the helper serves EPMD and the upstream there, and net_adm:ping is pong both ways', async () => {
    const files = manifestFiles();
    await setIntention(agent.api, 'range-orders', 'range-billing', 'allow');
    await setIntention(agent.api, 'range-billing', 'range-orders', 'allow');
    const boot = async (node: string) => {
      const n = await MeshNode.start({ manifestFile: files[node], node, consulAddr: agent.httpAddr, cookie: COOKIE, stateDir: path.join(dir, node) });
      nodes.push(n);
      return n;
    };
    const [orders, billing] = await Promise.all([boot(ORDERS), boot(BILLING)]);
    await waitDiscoverable(agent.api, ['range-orders', 'range-billing']);

    expect(await orders.eval('inet:getaddr("billing-1.range.test", inet)')).toBe('{ok,{127,0,1,0}}');
    expect(await billing.eval('inet:getaddr("orders-1.range.test", inet)')).toBe('{ok,{127,0,1,255}}');
    expect(fs.readFileSync(path.join(dir, ORDERS, 'hosts'), 'utf8')).toContain(`${BILLING_SEEN_BY_ORDERS} billing-1.range.test\n`);
    const epmdPort = Number(orders.output.match(/epmd :(\d+)/)![1]);
    expect(listeningSockets().some((l) => l.address === BILLING_SEEN_BY_ORDERS && l.port === epmdPort)).toBe(true);

    expect(await orders.ping(BILLING)).toBe('pong');
    expect(await orders.eval(`rpc:call(list_to_atom("${BILLING}"), erlang, node, [])`)).toBe(`'${BILLING}'`);
    // orders' connection went to the upstream listener on 127.0.1.0, the address billing-1 resolved to.
    const peerIp = 'begin {ok, [{_, I}]} = net_kernel:nodes_info(), {net_address, {Ip, _}, _, _, _} = proplists:get_value(address, I), Ip end';
    expect(await orders.eval(peerIp)).toBe('{127,0,1,0}');
    await orders.eval(`erlang:disconnect_node(list_to_atom("${BILLING}"))`);
    expect(await billing.ping(ORDERS)).toBe('pong');
  });
});

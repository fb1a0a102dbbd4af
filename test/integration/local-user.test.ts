// Attacks a local user on the same host could try against a running node, each performed for
// real (real agent, built-in proxies, BEAMs): docs/reliability.md's "local user" table.
import * as net from 'node:net';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { decodePort2Response, encodeAlive2Request, encodePortPlease2Request } from '../../lib/runtime/epmd/codec';
import { applySynth } from '../../support/apply-synth';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { synthToDir } from '../../support/synth';

jest.setTimeout(240_000);

const COOKIE = 'local-user-' + Math.random().toString(36).slice(2);
// Two nodes on one host: a peer on the node's own host is routed on 127.0.0.1, where local
// registrations live too, which is where a takeover would bite.
const ALPHA = 'alpha@h1.local.test';
const BETA = 'beta@h1.local.test';

/** Registers like a BEAM would; resolves with the ALIVE2 result byte and the open socket. */
function alive2(epmdPort: number, name: string, port: number): Promise<{ result: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: epmdPort }, () => s.write(encodeAlive2Request({ port, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name })));
    s.once('data', (reply) => resolve({ result: reply[1], socket: s }));
    s.once('error', reject);
  });
}

function lookup(address: string, epmdPort: number, name: string): Promise<ReturnType<typeof decodePort2Response>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: address, port: epmdPort }, () => s.write(encodePortPlease2Request(name)));
    s.on('data', (c) => chunks.push(c));
    s.once('error', reject);
    s.once('close', () => resolve(decodePort2Response(Buffer.concat(chunks))));
  });
}

describe('a local user on the same host', () => {
  let agent: DevAgent;
  let outdir: string;
  const nodes: MeshNode[] = [];
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  const boot = async (node: string, extra: Partial<Parameters<typeof MeshNode.start>[0]> = {}) => {
    const n = await MeshNode.start({ from: outdir, node, consulAddr: agent.httpAddr, cookie: COOKIE, ...extra });
    nodes.push(n);
    return n;
  };
  const epmdPortOf = (n: MeshNode) => Number(n.output.match(/epmd :(\d+)/)![1]);

  beforeAll(async () => {
    agent = await DevAgent.start();
    const synth = synthToDir((app) => {
      const stack = new TerraformStack(app, 'local-user');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'lu', intentionsMode: IntentionsMode.LEGACY, proxy: ProxyKind.BUILTIN });
      mesh.connect(mesh.addNode('Alpha', { nodeName: ALPHA }), mesh.addNode('Beta', { nodeName: BETA }));
      return stack;
    });
    outdir = synth.outdir;
    await applySynth(agent.api, synth.stackJson);
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of servers.splice(0)) s.close();
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
  });
  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGKILL')));
    await agent?.stop();
  });

  test("cannot take over a peer's route: ALIVE2 for the peer's name is refused and the BEAM's next connection reaches the real peer", async () => {
    const [alpha] = await Promise.all([boot(ALPHA), boot(BETA)]);
    await waitDiscoverable(agent.api, ['lu-alpha', 'lu-beta']);
    expect(await alpha.ping(BETA)).toBe('pong');
    // The attacker listens where it would like alpha to dial, and registers beta's name there.
    const dialed: net.Socket[] = [];
    const trap = net.createServer((s) => { dialed.push(s); sockets.push(s); });
    servers.push(trap);
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    const trapPort = (trap.address() as net.AddressInfo).port;
    const epmd = epmdPortOf(alpha);
    const attempt = await alive2(epmd, 'beta', trapPort);
    sockets.push(attempt.socket);
    expect(attempt.result).not.toBe(0);
    // Its own name too, with another port (squatting before or beside the BEAM).
    const own = await alive2(epmd, 'alpha', trapPort);
    sockets.push(own.socket);
    expect(own.result).not.toBe(0);
    // Lookups still give the upstream listener, not the attacker's port.
    const answer = await lookup('127.0.0.1', epmd, 'beta');
    expect(answer.info!.port).not.toBe(trapPort);
    // A new connection from the real BEAM reaches the real peer.
    expect(await alpha.eval(`erlang:disconnect_node(list_to_atom("${BETA}"))`)).toBe('true');
    expect(await alpha.eval(`rpc:call(list_to_atom("${BETA}"), erlang, node, [])`)).toBe(`'${BETA}'`);
    expect(dialed).toHaveLength(0);
    expect(alpha.output).toMatch(/refused a registration of 'beta' \(port \d+\): the name is routed to a peer/);
  });
});

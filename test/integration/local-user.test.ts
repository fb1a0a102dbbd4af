// Attacks a local user on the same host could try against a running node, each performed for
// real (real agent, built-in proxies, BEAMs): docs/reliability.md's "local user" table.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { TerraformStack } from 'cdktf';
import { BeamMesh, IntentionsMode, ProxyKind } from '../../lib';
import { spawnTied } from '../../lib/runtime/child';
import { decodePort2Response, encodeAlive2Request, encodePortPlease2Request } from '../../lib/runtime/epmd/codec';
import { listeningSockets } from '../../lib/runtime/proxy/listeners';
import { deploySynth } from '../../support/terraform';
import { DevAgent, waitDiscoverable } from '../../support/consul-dev-agent';
import { BIN, MeshNode, waitGone } from '../../support/mesh-node';
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
    const s = net.connect({ host: '127.0.0.1', port: epmdPort }, () =>
      s.write(encodeAlive2Request({ port, nodeType: 77, protocol: 0, highestVersion: 6, lowestVersion: 5, name })),
    );
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
  // One after the other: helpers on one host that pick ports at the same moment can be handed
  // the same free port (probe, release, bind later), and these two share 127.0.0.1.
  const bootPair = async (alphaOptions: Partial<Parameters<typeof MeshNode.start>[0]> = {}) => {
    const alpha = await boot(ALPHA, alphaOptions);
    await boot(BETA);
    await waitDiscoverable(agent.api, ['lu-alpha', 'lu-beta']);
    return alpha;
  };
  const epmdPortOf = (n: MeshNode) => Number(n.output.match(/epmd :(\d+)/)![1]);

  beforeAll(async () => {
    agent = await DevAgent.start();
    const synth = synthToDir((app) => {
      const stack = new TerraformStack(app, 'local-user');
      new ConsulProvider(stack, 'consul', {});
      const mesh = new BeamMesh(stack, 'Mesh', { name: 'lu', intentionsMode: IntentionsMode.LEGACY, acl: false, proxy: ProxyKind.BUILTIN });
      mesh.connect(mesh.addNode('Alpha', { nodeName: ALPHA }), mesh.addNode('Beta', { nodeName: BETA }));
      return stack;
    });
    outdir = synth.outdir;
    await deploySynth(synth.outdir, 'local-user', agent);
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
    const alpha = await bootPair();
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

  /** Starts a pinger in the node: pings `peer` every 50 ms, counting pongs and pangs. */
  const startPinger = (n: MeshNode, peer: string) =>
    n.eval(
      `register(pinger, spawn(fun() -> Loop = fun Loop(Pong, Pang) -> receive {get, From} -> From ! {Pong, Pang}, Loop(Pong, Pang) after 50 -> ` +
        `case net_adm:ping(list_to_atom("${peer}")) of pong -> Loop(Pong + 1, Pang); pang -> Loop(Pong, Pang + 1) end end end, Loop(0, 0) end))`,
    );
  const pingerCounts = async (n: MeshNode) => {
    const [pong, pang] = (await n.eval('begin pinger ! {get, self()}, receive {A, B} -> [A, B] end end'))
      .replace(/[[\]]/g, '')
      .split(',')
      .map(Number);
    return { pong, pang };
  };
  const catalogIndex = async (service: string) =>
    JSON.parse((await agent.api.request('GET', `/v1/catalog/service/${service}`)).text)[0].ModifyIndex as number;
  const runAgain = (stateDir: string) =>
    spawnSync(
      process.execPath,
      [
        BIN, 'run', '--from', outdir, '--node', ALPHA, '--consul-addr', agent.httpAddr, '--state-dir', stateDir, '--', 'erl', '-name',
        ALPHA, '-setcookie', COOKIE, '-noshell', ],
      { encoding: 'utf8', timeout: 60000 },
    );

  test('cannot run a node twice: a second run is refused (same or other state dir) and leaves the first untouched', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-'));
    const alpha = await bootPair({ stateDir });
    await waitDiscoverable(agent.api, ['lu-alpha', 'lu-beta']);
    await startPinger(alpha, BETA);
    const index = await catalogIndex('lu-alpha');
    const state = fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8');
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-other-'));
    for (const [dir, message] of [
      [stateDir, /already running: helper pid \d+ holds .*helper\.pid/],
      [other, /already running: lu-alpha is registered with the agent by helper pid \d+/],
    ] as const) {
      const r = runAgain(dir);
      expect(r.stderr).toMatch(message);
      expect(r.status).toBe(1);
      expect(r.stderr).not.toMatch(/\[proxy\]|started erl/);
    }
    // The first: same registration, same state, still passing, no ping lost meanwhile.
    expect(await catalogIndex('lu-alpha')).toBe(index);
    expect(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')).toBe(state);
    expect(await agent.api.serviceHealth('lu-alpha')).toBe('passing');
    const counts = await pingerCounts(alpha);
    expect(counts.pang).toBe(0);
    expect(counts.pong).toBeGreaterThan(0);
    expect(alpha.output).not.toMatch(/registering again|stopping/);
  });

  test('a stale lock and registration left by a killed helper are taken over', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-'));
    const killed = await boot(ALPHA, { stateDir });
    const pids = [killed.helperPid, killed.pidOf('beam'), killed.pidOf('proxy')];
    await killed.stop('SIGKILL');
    expect(await waitGone(pids)).toBe(true);
    expect(fs.readFileSync(path.join(stateDir, 'helper.pid'), 'utf8').trim()).toBe(String(pids[0]));
    const alpha = await bootPair({ stateDir });
    await waitDiscoverable(agent.api, ['lu-alpha', 'lu-beta']);
    expect(await alpha.ping(BETA)).toBe('pong');
    expect(fs.readFileSync(path.join(stateDir, 'helper.pid'), 'utf8').trim()).toBe(String(alpha.helperPid));
  });

  test('cannot hand the helper a state dir it does not own, or one others can write: ' +
    'exit 2 naming the dir and the reason, nothing registered', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-'));
    const foreign = path.join(root, 'foreign');
    fs.mkdirSync(foreign, { mode: 0o700 });
    fs.chownSync(foreign, 65534, 65534);
    const writable = path.join(root, 'writable');
    fs.mkdirSync(writable);
    fs.chmodSync(writable, 0o777);
    for (const [dir, reason] of [
      [foreign, 'it is owned by uid 65534, not by this user (uid 0)'],
      [writable, 'group or others can write to it (mode 0777)'],
    ]) {
      const r = runAgain(dir);
      expect(r.stderr).toContain(`--state-dir: refusing ${dir}: ${reason}`);
      expect(r.status).toBe(2);
      expect(r.stderr).not.toMatch(/\[proxy\]|started erl|registered lu-alpha/);
      expect(await agent.api.service('lu-alpha')).toBeUndefined();
      expect(fs.readdirSync(dir)).toEqual([]);
    }
  });

  test('cannot redirect the state files: links planted in the state dir are replaced, their targets untouched', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-'));
    const stateDir = path.join(root, 'state');
    fs.mkdirSync(stateDir, { mode: 0o700 });
    const victim = path.join(root, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    for (const f of ['inetrc', 'hosts', 'peers', 'state.json', 'upstreams.env']) fs.symlinkSync(victim, path.join(stateDir, f));
    const alpha = await boot(ALPHA, { stateDir });
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    for (const f of ['inetrc', 'hosts', 'peers', 'state.json', 'upstreams.env']) expect(fs.lstatSync(path.join(stateDir, f)).isFile()).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')).node).toBe(ALPHA);
    expect(alpha.output).toMatch(/health passing/);
  });

  test('companions set up with `meshx-node env` (remote console, bin/app rpc) listen on loopback only', async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-lu-'));
    await boot(ALPHA, { stateDir });
    const env = spawnSync(process.execPath, [BIN, 'env', '--state-dir', stateDir, '--format', 'json'], { encoding: 'utf8' });
    expect(env.status).toBe(0);
    const vars = JSON.parse(env.stdout);
    // A hidden console node that stays up and reports its distribution port.
    const console = spawnTied(
      [
        'erl', '-name', 'console@h1.local.test', '-hidden', '-setcookie', COOKIE, '-noshell', '-eval',
        'R = rpc:call(list_to_atom(os:getenv("MESHX_NODE_NAME")), erlang, node, []), io:format("dist port ~p rpc ~p~n", [element(2, ' +
          'erl_epmd:port_please("console", "127.0.0.1")), R]), receive after infinity -> ok end.',
      ],
      { env: { ...process.env, ...vars }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let rpc = '';
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        console.stdout!.on('data', (d) => {
          out += d;
          const m = /dist port (\d+) rpc (\S+)/.exec(out);
          if (m) {
            rpc = m[2];
            resolve(Number(m[1]));
          }
        });
        console.once('exit', (code) => reject(new Error(`console exited ${code}: ${out}`)));
      });
      const bound = listeningSockets().filter((l) => l.port === port);
      expect(bound.length).toBeGreaterThan(0);
      expect(bound.map((l) => l.address)).toEqual(bound.map(() => '127.0.0.1'));
      // And it reached the node, as a remote console does.
      expect(rpc).toBe(`'${ALPHA}'`);
      expect(await agent.api.serviceHealth('lu-alpha')).toBe('passing');
    } finally {
      console.kill('SIGKILL');
    }
  });
});

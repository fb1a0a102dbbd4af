// The hosts file half of the host map, proven on the installed OTP: a running BEAM given our
// inetrc (ERL_INETRC) resolves a host added to the hosts file after it started, and stops
// resolving a removed one, with no Erlang code of ours: inet_db checks the hosts file's info
// again (on OTP 25 at most every 5 s) and re-reads it when it changed. For -name and -sname
// nodes. Here the DNS responder the inetrc also names is not running (as if it could not
// answer): the hosts file alone still follows the map. inet-dns.test.ts proves the fast path.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hostsFile, inetrc } from '../../lib/runtime/beam-env';
import { EpmdServer } from '../../lib/runtime/epmd/server';
import { probeFreePort } from '../../lib/runtime/ports';
import { StateDir } from '../../lib/runtime/state-dir';
import { MeshNode } from '../../support/mesh-node';

jest.setTimeout(120_000);

/** Evaluates `expr` until it prints `want` (bounded); returns the last answer. */
async function evalUntil(node: MeshNode, expr: string, want: string, deadlineMs = 20000): Promise<string> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const got = await node.eval(expr);
    if (got === want || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.each([
  ['-name', 'probe@self.live.test', 'newpeer.live.test'],
  ['-sname', 'probe@selfhost', 'newpeer'],
])('a running BEAM (%s) follows the hosts file named by the inetrc', (flag, own, peerHost) => {
  let dir: string;
  let epmd: EpmdServer;
  let beam: MeshNode;
  let state: StateDir;
  const lookup = `inet:getaddr("${peerHost}", inet)`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-inet-'));
    state = new StateDir(dir);
    state.writeHosts(hostsFile(own, []));
    // A port nothing listens on: dns lookups are refused at once and fall through.
    state.writeInetrc(inetrc(state.hostsPath, await probeFreePort('127.0.0.1')));
    // Our EPMD, so that the node starts distribution with no system epmd.
    epmd = new EpmdServer({ port: 0, addresses: ['127.0.0.1'], peers: [] });
    await epmd.start();
    beam = MeshNode.plain(own, [flag, own, '-setcookie', 'inet-probe', '-start_epmd', 'false'], {
      ...process.env,
      ERL_EPMD_PORT: String(epmd.port),
      ERL_INETRC: state.inetrcPath,
    });
  });

  afterAll(async () => {
    beam?.child.stdin?.end();
    await beam?.stop('SIGKILL');
    await epmd?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('inet_db takes the hosts file and the lookup order from our inetrc', async () => {
    expect((await beam.eval('node()')).replace(/'/g, '')).toBe(own);
    expect(await beam.eval('inet_db:res_option(hosts_file)')).toBe(JSON.stringify(state.hostsPath));
    expect(await beam.eval('inet_db:res_option(lookup)')).toBe('[file,dns,native]');
    expect(await beam.eval(`inet:getaddr("${own.split('@')[1]}", inet)`)).toBe('{ok,{127,0,0,1}}');
    expect(await beam.eval(lookup)).toBe('{error,nxdomain}');
  });

  test('a host added after boot resolves; a removed one stops resolving', async () => {
    const peer = { node: `app@${peerHost}`, service: 'p', address: '127.0.0.9', port: 1 };
    state.writeHosts(hostsFile(own, [peer]));
    expect(await evalUntil(beam, lookup, '{ok,{127,0,0,9}}')).toBe('{ok,{127,0,0,9}}');
    state.writeHosts(hostsFile(own, []));
    expect(await evalUntil(beam, lookup, '{error,nxdomain}')).toBe('{error,nxdomain}');
  });
});

// Issue 25: RabbitMQ's CLI (and OTP's net_kernel) start distribution with a long name without a
// host; with no domain in inet_db they reload the resolver (inet_config:do_load_resolv/2): the
// lookup becomes [native] and peer hosts stop resolving. The helper's inetrc names a domain.
describe.each([
  // Without a domain the host-less name cannot even be completed (this host has no DNS domain).
  ['without the node name (no domain)', undefined, 'error', '{error,nxdomain}', '[native]'],
  ["with the node's name (a domain)", 'rabbit@mq-1.mesh.test', 'ok', '{ok,{127,0,0,9}}', '[file,dns,native]'],
])('a host-less long name started at run time, inetrc %s', (_what, node, started, answer, lookupAfter) => {
  let dir: string;
  let epmd: EpmdServer;
  let beam: MeshNode;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-inet-domain-'));
    const state = new StateDir(dir);
    state.writeHosts(hostsFile('rabbit@mq-1.mesh.test', [{ node: 'rabbit@mq-2.mesh.test', service: 'p', address: '127.0.0.9', port: 1 }]));
    state.writeInetrc(inetrc(state.hostsPath, await probeFreePort('127.0.0.1'), node));
    epmd = new EpmdServer({ port: 0, addresses: ['127.0.0.1'], peers: [] });
    await epmd.start();
    // As `meshx-node env` gives a companion (the CLI): our EPMD and inetrc, no distribution yet.
    beam = MeshNode.plain('cli', ['-start_epmd', 'false'], { ...process.env, ERL_EPMD_PORT: String(epmd.port), ERL_INETRC: state.inetrcPath });
  });

  afterAll(async () => {
    beam?.child.stdin?.end();
    await beam?.stop('SIGKILL');
    await epmd?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`the peer host ${answer === '{error,nxdomain}' ? 'stops resolving' : 'still resolves'} after net_kernel:start([cli, longnames])`, async () => {
    expect(await beam.eval('inet:getaddr("mq-2.mesh.test", inet)')).toBe('{ok,{127,0,0,9}}');
    expect(await beam.eval('element(1, net_kernel:start([cli, longnames]))')).toBe(started);
    expect(await beam.eval('inet_db:res_option(lookup)')).toBe(lookupAfter);
    expect(await beam.eval('inet:getaddr("mq-2.mesh.test", inet)')).toBe(answer);
  });
});

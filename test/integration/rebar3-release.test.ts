// A real rebar3 (relx) release built offline and booted under `meshx-node run`, configured exactly
// as docs/works-with.md says (config/vm.args.src, the cookie in ~/.erlang.cookie), two of them
// pinging each other through the mesh, driven with `bin/relapp rpc` through `meshx-node env`.
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode, waitGone } from '../../support/mesh-node';
import { BILLING, companionEnv, deployTwoNodes, ORDERS, processesUnder, TwoNodesMesh } from '../../support/release-mesh';

jest.setTimeout(300_000);

const COOKIE = 'rebar3-' + Math.random().toString(36).slice(2);

// The project: no deps, so nothing to fetch; the recipe's vm.args.src and an empty sys.config.
const PROJECT: Record<string, string> = {
  'rebar.config': [
    '{erl_opts, [debug_info]}.',
    '{deps, []}.',
    '{relx, [{release, {relapp, "0.1.0"}, [relapp]},',
    '        {sys_config, "config/sys.config"},',
    '        {vm_args_src, "config/vm.args.src"}]}.',
  ].join('\n') + '\n',
  'src/relapp.app.src': '{application, relapp, [{description, "relapp"}, {vsn, "0.1.0"}, {applications, [kernel, stdlib]}]}.\n',
  'config/vm.args.src': '-name ${MESHX_NODE_NAME}\n',
  'config/sys.config': '[].\n',
};

/** Writes the project and builds `rebar3 as prod release` with no network at all (a network namespace of its own). */
function buildRelease(work: string): string {
  const project = path.join(work, 'relapp');
  for (const [file, text] of Object.entries(PROJECT)) {
    fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
    fs.writeFileSync(path.join(project, file), text);
  }
  const env = { ...process.env, HOME: path.join(work, 'build-home'), REBAR_CACHE_DIR: path.join(work, 'rebar-cache'), REBAR_OFFLINE: '1' };
  const r = spawnSync('unshare', ['--net', 'rebar3', 'as', 'prod', 'release'], { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`rebar3 release failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return path.join(project, '_build', 'prod', 'rel', 'relapp');
}

/** One host's copy of the release and its user's home with the cookie file (mode 0400). */
function installOn(work: string, host: string, node: string, rel: string): { node: string; relBin: string; home: string; stateDir: string } {
  const dir = path.join(work, host);
  fs.cpSync(rel, path.join(dir, 'relapp'), { recursive: true, verbatimSymlinks: true });
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, '.erlang.cookie'), COOKIE, { mode: 0o400 });
  return { node, relBin: path.join(dir, 'relapp', 'bin', 'relapp'), home, stateDir: path.join(dir, 'state') };
}

describe('a rebar3 (relx) release under meshx-node run', () => {
  let work: string;
  let mesh: TwoNodesMesh | undefined;
  let orders: ReturnType<typeof installOn>;
  let billing: ReturnType<typeof installOn>;
  let hostsFile: string;
  const nodes: MeshNode[] = [];

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-rebar3-'));
    const rel = buildRelease(work);
    orders = installOn(work, 'orders-1', ORDERS, rel);
    billing = installOn(work, 'billing-1', BILLING, rel);
    // The recipe's /etc/hosts line for erl_call, in a mount namespace of the rpc's own.
    hostsFile = path.join(work, 'hosts');
    fs.writeFileSync(hostsFile, fs.readFileSync('/etc/hosts', 'utf8') + '\n127.0.0.1 orders-1.shop.test billing-1.shop.test\n');
    mesh = await deployTwoNodes();
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await mesh?.agent.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const boot = (host: ReturnType<typeof installOn>) =>
    MeshNode.start({
      from: mesh!.outdir, node: host.node, consulAddr: mesh!.agent.httpAddr, cookie: COOKIE, stateDir: host.stateDir,
      command: [host.relBin, 'foreground'], env: { HOME: host.home },
    });

  /**
   * `bin/relapp <args>` beside a running node as the recipe says: after `eval "$(meshx-node env …)"`
   * (`meshxEnv`) and with the node's host mapped in /etc/hosts (`hosts`, in a mount namespace of its own).
   */
  const relx = (host: ReturnType<typeof installOn>, args: string[], o = { meshxEnv: true, hosts: true }): SpawnSyncReturns<string> => {
    const env = { ...process.env, ...(o.meshxEnv ? companionEnv(host.stateDir) : { MESHX_NODE_NAME: host.node }), HOME: host.home };
    const cmd = o.hosts
      ? ['unshare', '--mount', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, host.relBin, ...args]
      : [host.relBin, ...args];
    return spawnSync(cmd[0], cmd.slice(1), { env, encoding: 'utf8', timeout: 60_000 });
  };

  test('two releases booted with `bin/relapp foreground` ping each other through the mesh, `bin/relapp rpc` ' +
    'works through meshx-node env, SIGTERM stops them and nothing is left', async () => {
    nodes.push(await boot(orders));
    nodes.push(await boot(billing));
    const [ordersNode, billingNode] = nodes;
    await waitDiscoverable(mesh!.agent.api, ['shop-orders', 'shop-billing']);

    expect(relx(orders, ['rpc', 'erlang', 'node']).stdout.trim()).toBe(`'${ORDERS}'`);
    expect(relx(orders, ['rpc', 'application', 'which_applications']).stdout).toMatch(/\{relapp,/);
    expect(relx(orders, ['rpc', 'net_adm', 'ping', `['${BILLING}']`]).stdout.trim()).toBe('pong');
    expect(relx(billing, ['rpc', 'net_adm', 'ping', `['${ORDERS}']`]).stdout.trim()).toBe('pong');
    // Both halves of the recipe are needed: erl_call resolves the node's host with the system
    // resolver, and looks the node up in the helper's EPMD (without `meshx-node env`, only the
    // node's name is given).
    expect(relx(orders, ['rpc', 'erlang', 'node'], { meshxEnv: true, hosts: false }).stdout).toContain('Node is not running!');
    expect(relx(orders, ['rpc', 'erlang', 'node'], { meshxEnv: false, hosts: true }).stdout).toContain('Node is not running!');
    // Neither the releases nor their rpc started an epmd of their own.
    const exe = (pid: number) => { try { return fs.readlinkSync(`/proc/${pid}/exe`); } catch { return ''; } };
    expect(processesUnder(work).map(exe).filter((e) => e.endsWith('/epmd'))).toEqual([]);

    // The releases' own BEAMs (their erts is in the release), the helpers and their proxies.
    const beams = processesUnder(work).filter((p) => exe(p).endsWith('/beam.smp'));
    expect(beams).toHaveLength(2);
    const others = nodes.flatMap((n) => [n.helperPid, n.pidOf('proxy')]);
    expect(await ordersNode.stop('SIGTERM')).toBe(0);
    expect(await billingNode.stop('SIGTERM')).toBe(0);
    expect(await waitGone([...beams, ...others], 10_000)).toBe(true);
    expect(processesUnder(work)).toEqual([]);
    expect(await mesh!.agent.api.service('shop-orders')).toBeUndefined();
    expect(await mesh!.agent.api.service('shop-billing')).toBeUndefined();
  });
});

// A real `mix release` booted under `meshx-node run`, configured exactly as the README says
// (rel/env.sh.eex), reached through the mesh by a peer, and driven with `bin/app rpc` through
// `meshx-node env`.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitDiscoverable } from '../../support/consul-dev-agent';
import { MeshNode } from '../../support/mesh-node';
import { BILLING, companionEnv, deployTwoNodes, ORDERS, TwoNodesMesh } from '../../support/release-mesh';

jest.setTimeout(300_000);

const COOKIE = 'release-' + Math.random().toString(36).slice(2);

describe('a mix release under meshx-node run', () => {
  let mesh: TwoNodesMesh | undefined;
  let work: string;
  let relBin: string;
  const nodes: MeshNode[] = [];

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-release-'));
    const env = { ...process.env, MIX_ENV: 'prod', HOME: work };
    execFileSync('mix', ['new', 'relapp'], { cwd: work, env, stdio: 'ignore' });
    const app = path.join(work, 'relapp');
    fs.mkdirSync(path.join(app, 'rel'));
    // What the README tells users to put in rel/env.sh.eex.
    fs.writeFileSync(
      path.join(app, 'rel', 'env.sh.eex'),
      'export RELEASE_DISTRIBUTION=name\nexport RELEASE_NODE="${MESHX_NODE_NAME:-app@$(hostname -f)}"\n',
    );
    execFileSync('mix', ['release', '--overwrite', '--quiet'], { cwd: app, env, stdio: 'ignore' });
    relBin = path.join(app, '_build', 'prod', 'rel', 'relapp', 'bin', 'relapp');
    mesh = await deployTwoNodes();
  });

  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop('SIGTERM')));
    await mesh?.agent.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('boots with `bin/relapp start`, a peer pings it through the mesh, ' +
    '`bin/relapp rpc` works through meshx-node env, SIGTERM stops it cleanly', async () => {
    const stateDir = path.join(work, 'state');
    const release = await MeshNode.start({
      from: mesh!.outdir,
      node: ORDERS,
      consulAddr: mesh!.agent.httpAddr,
      cookie: COOKIE,
      stateDir,
      command: [relBin, 'start'],
      env: { RELEASE_COOKIE: COOKIE, HOME: work },
    });
    nodes.push(release);
    const billing = await MeshNode.start({ from: mesh!.outdir, node: BILLING, consulAddr: mesh!.agent.httpAddr, cookie: COOKIE });
    nodes.push(billing);
    await waitDiscoverable(mesh!.agent.api, ['shop-orders', 'shop-billing']);
    expect(await billing.ping(ORDERS)).toBe('pong');
    expect(await billing.eval(`rpc:call(list_to_atom("${ORDERS}"), 'Elixir.Application', started_applications, [])`)).toContain('relapp');

    const rpc = spawnSync(relBin, ['rpc', 'IO.puts(Node.self())'], {
      env: { ...process.env, ...companionEnv(stateDir), RELEASE_COOKIE: COOKIE, HOME: work },
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(rpc.stdout.trim()).toBe(ORDERS);

    expect(await release.stop('SIGTERM')).toBe(0);
    expect(await mesh!.agent.api.service('shop-orders')).toBeUndefined();
  });
});

// Bad input through the real `meshx-node` binary, against a live agent: a message naming the
// field, exit 2, and nothing registered or running.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DevAgent } from '../../support/consul-dev-agent';
import { BIN } from '../../support/mesh-node';
import { BAD_MANIFESTS, validManifest } from '../fixtures/manifests';

jest.setTimeout(180_000);

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('meshx-node CLI: bad input', () => {
  let agent: DevAgent;
  let dir: string;
  beforeAll(async () => {
    agent = await DevAgent.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-cli-'));
  });
  afterAll(async () => {
    await agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const services = async () => Object.keys(JSON.parse((await agent.api.request('GET', '/v1/agent/services')).text));

  test(`${BAD_MANIFESTS.length} malformed manifests: each refused naming the field, exit 2, nothing registered`, async () => {
    const results: string[] = [];
    // A few at a time: each is a real process.
    for (let i = 0; i < BAD_MANIFESTS.length; i += 6) {
      const batch = BAD_MANIFESTS.slice(i, i + 6).map(async ([desc, mutation, field], j) => {
        const file = path.join(dir, `bad-${i + j}.json`);
        fs.writeFileSync(file, typeof mutation === 'string' ? mutation : JSON.stringify(mutation(validManifest())));
        const r = await run(['run', '--manifest', file, '--consul-addr', agent.httpAddr, '--', 'erl', '-name', 'x@y.z']);
        const named = r.stderr.includes(`manifest field '${field}'`) ? 'names the field' : `does not name '${field}': ${r.stderr.trim()}`;
        results.push(`${desc}: exit ${r.code}, ${named}`);
      });
      await Promise.all(batch);
    }
    expect(results.sort()).toEqual(BAD_MANIFESTS.map(([d]) => `${d}: exit 2, names the field`).sort());
    expect(await services()).toEqual([]);
  });

  test.each([
    ['an unknown flag', ['run', '--bogus', '--', 'erl'], /unknown option '--bogus'/],
    ['a missing --', ['run', '--manifest', 'MANIFEST', 'erl'], /put the BEAM command after --/],
    ['no command after --', ['run', '--manifest', 'MANIFEST', '--'], /no command to run/],
    ['a command that does not exist', ['run', '--manifest', 'MANIFEST', '--', 'no-such-beam-xyz'], /command not found: no-such-beam-xyz/],
    ['no manifest source', ['run', '--', 'erl'], /give the manifest with one of --manifest FILE/],
    ['two manifest sources', ['run', '--manifest', 'MANIFEST', '--kv', 'k', '--', 'erl'], /give only one of --manifest, --kv/],
    ['--from without --node', ['run', '--from', '/tmp', '--', 'erl'], /--from needs --node/],
    ['a missing manifest file', ['run', '--manifest', '/nonexistent/m.json', '--', 'erl'], /--manifest: \/nonexistent\/m.json does not exist/],
    ['an unknown proxy kind', ['run', '--manifest', 'MANIFEST', '--proxy', 'haproxy', '--', 'erl'], /argument 'haproxy' is invalid/],
    [
      'a bad timeout',
      ['run', '--manifest', 'MANIFEST', '--consul-timeout', 'soon', '--', 'erl'],
      /--consul-timeout must be a positive number of seconds/,
    ],
    ['an unknown subcommand', ['frobnicate'], /unknown command 'frobnicate'/],
    [
      '--client-cert without --client-key',
      ['run', '--manifest', 'MANIFEST', '--client-cert', '/etc/cli.pem', '--', 'erl'],
      /--client-cert \(or \$CONSUL_CLIENT_CERT\) needs --client-key/,
    ],
    [
      'an unreadable --ca-file for an https agent',
      ['run', '--manifest', 'MANIFEST', '--consul-addr', 'https://127.0.0.1:1', '--ca-file', '/nonexistent/ca.pem', '--', 'erl'],
      /--ca-file: cannot read \/nonexistent\/ca.pem \(ENOENT\)/,
    ],
    [
      'a --client-key that holds no key',
      ['run', '--manifest', 'MANIFEST', '--consul-addr', 'https://127.0.0.1:1', '--client-cert', 'MANIFEST', '--client-key', 'MANIFEST', '--', 'erl'],
      /--client-cert: .* holds no PEM certificate/,
    ],
    [
      '-erl_epmd_port in the command',
      ['run', '--manifest', 'MANIFEST', '--', 'erl', '-erl_epmd_port', '4370'],
      /sets -erl_epmd_port, which makes the BEAM skip EPMD lookups/,
    ],
    [
      '-kernel inet_dist_listen_min in the command (helper picks the port)',
      ['run', '--manifest', 'MANIFEST', '--', 'erl', '-kernel', 'inet_dist_listen_min', '9999'],
      /the command sets -kernel inet_dist_listen_min 9999, which contradicts the helper's distribution port/,
    ],
    [
      'inet_dist_use_interface off loopback',
      ['run', '--manifest', 'MANIFEST', '--', 'erl', '-kernel', 'inet_dist_use_interface', '{0,0,0,0}'],
      /sets -kernel inet_dist_use_interface \{0,0,0,0\}: the helper keeps distribution on 127\.0\.0\.1/,
    ],
    [
      'envoy without an envoy binary',
      ['run', '--manifest', 'MANIFEST', '--proxy', 'envoy', '--envoy-bin', 'no-such-envoy', '--', 'erl'],
      /envoy binary not found: no-such-envoy/,
    ],
    ['env without a running node', ['env', '--state-dir', '/nonexistent'], /no state.json in \/nonexistent/],
    [
      '--node unknown in the synth output',
      ['run', '--from', 'SYNTH', '--node', 'nobody@x.y', '--', 'erl'],
      /--node: no node 'nobody@x.y' in .* \(nodes there: orders@orders-1.shop.test\)/,
    ],
  ])('%s: usage error, exit 2', async (_d, args, message) => {
    const manifest = path.join(dir, 'good.json');
    fs.writeFileSync(manifest, JSON.stringify(validManifest()));
    const synth = path.join(dir, 'cdk.tf.json');
    fs.writeFileSync(
      synth,
      JSON.stringify({
        resource: { consul_keys: { k: { key: [{ path: 'p', value: JSON.stringify({ ...validManifest(), node: 'orders@orders-1.shop.test' }) }] } } },
      }),
    );
    const r = await run(
      args.map((a) => (a === 'MANIFEST' ? manifest : a === 'SYNTH' ? synth : a)),
      { ...process.env, CONSUL_HTTP_ADDR: agent.httpAddr },
    );
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(await services()).toEqual([]);
  });

  test('--help on every command exits 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['manifest', '--help'], ['env', '--help']]) {
      const r = await run(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 0]);
      expect(r.stdout).toMatch(/^Usage: meshx-node/);
    }
  });

  test('manifest --from prints the manifests; --schema prints the JSON Schema', async () => {
    const synth = path.join(dir, 'cdk.tf.json');
    fs.writeFileSync(synth, JSON.stringify({ resource: { consul_keys: { k: { key: [{ path: 'p', value: JSON.stringify(validManifest()) }] } } } }));
    const r = await run(['manifest', '--from', synth]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([validManifest()]);
    const one = await run(['manifest', '--from', synth, '--node', 'shop-orders']);
    expect(JSON.parse(one.stdout)).toEqual(validManifest());
    const schema = await run(['manifest', '--schema']);
    expect(JSON.parse(schema.stdout).title).toBe('meshx-node node manifest v1');
  });
});

// Metrics and json logs of a real run: a real Prometheus (Debian's package, started here on
// loopback) scrapes a helper's --metrics-addr, and its own query API shows a proxy kill and a
// topology change; the helper's and the proxy's lines are json objects; a token secret and the
// cookie appear in neither format. Real Consul 1.8 with ACLs on, built-in proxies, erl.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeFreePort } from '../../lib/runtime/ports';
import { DevAgent } from '../../support/consul-dev-agent';
import { keyOf, LiveVersion, publishVersion, synthLiveVersion } from '../../support/live-mesh';
import { BIN, MeshNode } from '../../support/mesh-node';
import { Prometheus } from '../../support/prometheus';

jest.setTimeout(300_000);

const COOKIE = 'metrics-cookie-' + Math.random().toString(36).slice(2);
const ALPHA = 'alpha@alpha-1.metrics.test';
const BETA = 'beta@beta-1.metrics.test';
const GAMMA = 'gamma@gamma-1.metrics.test';
const V1 = { nodes: [ALPHA, BETA], edges: [[ALPHA, BETA]] as Array<[string, string]> };
const V2 = { nodes: [ALPHA, BETA, GAMMA], edges: [[ALPHA, BETA], [ALPHA, GAMMA]] as Array<[string, string]> };

/** The json objects among a run's output lines (the BEAM's own lines are not json). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('metrics scraped by a real Prometheus; json logs', () => {
  const master = randomUUID();
  const tmp = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-metrics-'));
  const tokenFile = path.join(tmp, 'token');
  let agent: DevAgent;
  let prom: Prometheus;
  let node: MeshNode;
  let v1: LiveVersion;
  let v2: LiveVersion;
  const others: MeshNode[] = [];
  const run = (name: string, v: LiveVersion, args: string[], waitFor: 'healthy' | 'nothing' = 'nothing') =>
    MeshNode.start({
      kv: keyOf(v, name), node: name, consulAddr: agent.httpAddr, cookie: COOKIE, tokenFile,
      stateDir: path.join(tmp, name.split('@')[0]), extraRunArgs: args, waitFor,
    });

  beforeAll(async () => {
    agent = await DevAgent.start({ aclMasterToken: master });
    fs.writeFileSync(tokenFile, `${master}\n`, { mode: 0o600 });
    v1 = synthLiveVersion('metrics', V1);
    v2 = synthLiveVersion('metrics', V2);
    await publishVersion(agent.api, v1);
    const metricsPort = await probeFreePort('127.0.0.1');
    fs.mkdirSync(path.join(tmp, 'prometheus'));
    prom = await Prometheus.start(path.join(tmp, 'prometheus'), [`127.0.0.1:${metricsPort}`]);
    node = await run(ALPHA, v1, ['--metrics-addr', String(metricsPort), '--log-format', 'json']);
    await node.waitForLog(/"source":"helper","message":"health passing/, 60000);
  });

  afterAll(async () => {
    try {
      await Promise.all([node, ...others].map((n) => n?.stop('SIGTERM')));
    } finally {
      await prom?.stop();
      await agent?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the boot as Prometheus scraped it: the node, its steps, one upstream, passing', async () => {
    expect(await prom.valueWhen(`meshx_node_info{node="${ALPHA}",proxy="builtin"}`, (v) => v === 1)).toBe(1);
    expect(await prom.valueWhen('meshx_node_upstreams', (v) => v === 1)).toBe(1);
    expect(await prom.valueWhen('meshx_node_health_passing', (v) => v === 1)).toBe(1);
    const steps = new Map((await prom.query('meshx_node_boot_step_seconds')).map((s) => [s.metric.step, s.value]));
    expect([...steps.keys()]).toEqual(expect.arrayContaining(['metrics', 'register', 'epmd', 'proxy-ready', 'beam']));
    expect(steps.get('proxy-ready')).toBeGreaterThan(0);
    expect(steps.get('beam')).toBeGreaterThan(0);
  });

  test('a killed proxy: the restarts counter and the critical changes go up', async () => {
    const restarts = await prom.valueWhen('meshx_node_proxy_restarts_total', () => true);
    const critical = await prom.valueWhen('meshx_node_health_changes_total{status="critical"}', () => true);
    const pid = node.pidOf('proxy')!;
    expect(pid).toBeGreaterThan(1);
    const mark = node.output.length;
    process.kill(pid, 'SIGKILL');
    await node.waitForLog(/proxy back \(pid/, 60000);
    expect(node.output.slice(mark)).toMatch(/proxy back/);
    expect(await prom.valueWhen('meshx_node_proxy_restarts_total', (v) => v > restarts)).toBe(restarts + 1);
    expect(await prom.valueWhen('meshx_node_health_changes_total{status="critical"}', (v) => v > critical)).toBeGreaterThan(critical);
    expect(await prom.valueWhen('meshx_node_health_passing', (v) => v === 1)).toBe(1);
  });

  test('a topology change: a version applied, two upstreams; a bad version refused', async () => {
    const applied = 'meshx_node_manifest_versions_total{outcome="applied"}';
    const refused = 'meshx_node_manifest_versions_total{outcome="refused"}';
    const before = await prom.valueWhen(applied, () => true);
    await publishVersion(agent.api, v2, v1);
    await node.waitForLog(/manifest version \d+ applied/, 60000);
    expect(await prom.valueWhen(applied, (v) => v > before)).toBe(before + 1);
    expect(await prom.valueWhen('meshx_node_upstreams', (v) => v === 2)).toBe(2);
    const refusedBefore = await prom.valueWhen(refused, () => true);
    await agent.api.kvPut(keyOf(v2, ALPHA), '{"not": "a manifest"');
    expect(await prom.valueWhen(refused, (v) => v > refusedBefore)).toBe(refusedBefore + 1);
    expect(await prom.valueWhen('meshx_node_upstreams', () => true)).toBe(2);
  });

  test('json logs: every helper and proxy line one object with time, level, node, source, message, fields', () => {
    const lines = jsonLines(node.output);
    expect(lines.filter((l) => l.source === 'helper').length).toBeGreaterThan(10);
    expect(lines.filter((l) => l.source === 'proxy').length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(['time', 'level', 'node', 'source', 'message', 'fields']);
      expect(new Date(l.time as string).toISOString()).toBe(l.time);
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      // Before the manifest is read from KV, the line names the key (as the text prefix does).
      expect([ALPHA, `kv:${keyOf(v1, ALPHA)}`]).toContain(l.node);
    }
    for (const l of lines.filter((x) => x.source === 'proxy')) expect(['stdout', 'stderr']).toContain((l.fields as { stream?: string }).stream);
    // The proxy's own level marker ([INFO], [ERROR]) is its line's level.
    expect(lines.filter((l) => l.source === 'proxy' && /\[INFO\]/.test(l.message as string)).every((l) => l.level === 'info')).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /refused/.test(l.message as string))).toBe(true);
    expect(node.output).not.toMatch(/\]\[(helper|proxy)\] /);
  });

  test('neither format carries the token secret or the cookie', async () => {
    const text = await run(BETA, v2, [], 'healthy');
    others.push(text);
    expect(text.output).toMatch(/\[beta@beta-1\.metrics\.test\]\[helper\] health passing/);
    await text.stop('SIGTERM');
    for (const output of [node.output, text.output]) {
      expect(output).not.toContain(master);
      expect(output).not.toContain(COOKIE);
    }
  });

  test('a taken --metrics-addr port: exit 1 naming it (a json line), nothing registered; a bad one: exit 2', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const args = [BIN, 'run', '--kv', keyOf(v2, GAMMA), '--consul-addr', agent.httpAddr, '--token-file', tokenFile,
        '--state-dir', path.join(tmp, 'gamma'), '--metrics-addr', `127.0.0.1:${port}`, '--log-format', 'json',
        '--', 'erl', '-name', GAMMA, '-noshell'];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      // In json, the failure that ends the run is a json line too, and every line is one.
      const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; message: string; fields: object });
      expect(lines.pop()).toMatchObject({ level: 'error', message: `--metrics-addr: 127.0.0.1:${port} is already in use`, fields: { exit: 1 } });
      expect(await agent.api.service(v2.manifests.find((m) => m.manifest.node === GAMMA)!.manifest.service.id)).toBeUndefined();
      expect(fs.existsSync(path.join(tmp, 'gamma', 'state.json'))).toBe(false);
    } finally {
      taken.close();
    }
    const badArgs = [BIN, 'run', '--kv', 'k', '--metrics-addr', 'metrics.example:9102', '--', 'erl'];
    const bad = spawnSync(process.execPath, badArgs, { encoding: 'utf8', timeout: 30_000 });
    expect(bad.stderr).toContain("--metrics-addr: 'metrics.example' is not an IPv4 address");
    expect(bad.status).toBe(2);
  });
});

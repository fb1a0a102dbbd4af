// One synth measurement in a fresh process: node bench/synth-worker.js <meshx|raw> <full|ring> <n>
// Prints {ms, cpuMs, peakRssMb, counts, kvDigest}; cpuMs is the process's CPU time (all threads) over the
// same span. Both variants emit the same resources (checked by the caller).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { App, TerraformStack } = require('cdktf');
const { ConsulProvider } = require('@cdktf/provider-consul/lib/provider');
const { ConfigEntry } = require('@cdktf/provider-consul/lib/config-entry');
const { AclPolicy } = require('@cdktf/provider-consul/lib/acl-policy');
const { AclToken } = require('@cdktf/provider-consul/lib/acl-token');
const { Keys } = require('@cdktf/provider-consul/lib/keys');
const { BeamMesh, ProxyKind } = require('../lib');

const [variant, shape, nStr] = process.argv.slice(2);
const n = Number(nStr);
const names = Array.from({ length: n }, (_, i) => ({ id: `N${i}`, service: `m-n${i}`, node: `app@h${i}.x` }));
/** Directed edges: full mesh, or a ring where each node talks to both neighbours. */
function peersOf(i) {
  if (shape === 'full') return names.map((_, j) => j).filter((j) => j !== i);
  return n <= 2 ? [(i + 1) % n] : [...new Set([(i + 1) % n, (i + n - 1) % n])];
}

function meshx(stack) {
  const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', proxy: ProxyKind.BUILTIN });
  const nodes = names.map((x) => mesh.addNode(x.id, { nodeName: x.node }));
  if (shape === 'full') mesh.connectAll();
  else for (let i = 0; i < n; i++) mesh.connect(nodes[i], nodes[(i + 1) % n]);
}

/** The same resources, written by hand with the raw provider classes. */
function raw(stack) {
  const sortedHosts = (i) => peersOf(i).map((j) => `h${j}.x`).sort();
  names.forEach((x, i) => {
    const scope = new (require('constructs').Construct)(stack, x.id);
    new ConfigEntry(scope, 'Defaults', { kind: 'service-defaults', name: x.service, configJson: JSON.stringify({ Protocol: 'tcp' }) });
    const key = `meshx/m/nodes/${x.service}`;
    const policy = new AclPolicy(scope, 'Policy', {
      name: `${x.service}-meshx-node`,
      description: `meshx-node: read the manifest of ${x.node}`,
      rules: `key "${key}" {\n  policy = "read"\n}\n`,
    });
    new AclToken(scope, 'Token', {
      description: `meshx-node: ${x.node} (${x.service})`,
      local: false,
      policies: [policy.name],
      serviceIdentities: [{ serviceName: x.service }],
    });
    const hosts = sortedHosts(i);
    const upstreams = peersOf(i)
      .map((j) => names[j])
      .sort((a, b) => (a.node < b.node ? -1 : 1))
      .map((p) => ({ node: p.node, service: p.service, address: `127.0.0.${hosts.indexOf(p.node.split('@')[1]) + 2}`, port: 0 }));
    const manifest = {
      apiVersion: 'meshx-node/v1',
      mesh: 'm',
      node: x.node,
      service: {
        id: x.service,
        name: x.service,
        tags: [],
        meta: { erlang_node: x.node, meshx_mesh: 'm' },
        distPort: 0,
        ttl: '5m',
        deregisterCriticalAfter: '1m',
      },
      sidecar: { port: 0, proxy: 'builtin' },
      upstreams,
      epmdPort: 0,
    };
    new Keys(scope, 'Manifest', { key: [{ path: key, value: JSON.stringify(manifest), delete: true }] });
  });
  const sources = new Map();
  names.forEach((x, i) => { for (const j of peersOf(i)) { if (!sources.has(j)) sources.set(j, []); sources.get(j).push(x); } });
  names.forEach((x, j) => {
    const entries = (sources.get(j) ?? [])
      .sort((a, b) => (a.node < b.node ? -1 : 1))
      .map((s) => ({ Name: s.service, Action: 'allow', Precedence: 9, Type: 'consul', Description: `meshx-node: ${s.node} -> ${x.node}` }));
    entries.push({ Name: '*', Action: 'deny', Precedence: 8, Type: 'consul', Description: `meshx-node: default deny for ${x.node}` });
    new ConfigEntry(stack, `Intentions-${x.service}`, {
      kind: 'service-intentions',
      name: x.service,
      configJson: JSON.stringify({ Sources: entries }),
    });
  });
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bench-synth-'));
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const app = new App({ outdir });
const stack = new TerraformStack(app, 'bench');
new ConsulProvider(stack, 'consul', {});
(variant === 'meshx' ? meshx : raw)(stack);
app.synth();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'bench', 'cdk.tf.json'), 'utf8'));
const counts = Object.fromEntries(Object.entries(json.resource).map(([t, r]) => [t, Object.keys(r).length]));
const kv = Object.values(json.resource.consul_keys).map((k) => k.key[0].value).sort();
const digest = crypto.createHash('sha256').update(JSON.stringify(kv)).digest('hex').slice(0, 16);
fs.rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ ms, cpuMs, peakRssMb: process.resourceUsage().maxRSS / 1024, counts, kvDigest: digest }) + '\n');

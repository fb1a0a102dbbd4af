// Certificates on the production-shaped cluster (Consul 1.14.11, HTTPS agents with
// verify_incoming, ACLs): the Connect CA rotated under nodes that keep dialing new connections
// across hosts, and a helper whose client certificate for its agent is expired, then from a CA
// the agent does not trust, then fixed on disk while it waits.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lifetimeHours, rotateUnderRedial, servedCertificate } from '../../support/ca-rotation';
import { Cluster } from '../../support/cluster/cluster';
import { bootClusterNodes, DeployedNode, deployClusterMesh } from '../../support/cluster/mesh';
import { inNs } from '../../support/cluster/netns';
import { MeshNode } from '../../support/mesh-node';

jest.setTimeout(300_000);

const COOKIE = 'certs-' + Math.random().toString(36).slice(2);
// app on app-1 and app-2, connected; jobs on app-2 (booted by the certificate test), connected to app-1.
const NODES = [{ alive: 'app', host: 1 }, { alive: 'app', host: 2 }, { alive: 'jobs', host: 2 }];
const EDGES: Array<[number, number]> = [[0, 1], [2, 0]];
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sidecarPort = (n: MeshNode) => Number(/registered \S+ \(dist [^,]+, sidecar :(\d+)/.exec(n.output)![1]);

describe('certificates on a production-shaped cluster (Consul 1.14.11)', () => {
  let cluster: Cluster;
  let deployed: DeployedNode[];
  let nodes: MeshNode[];

  beforeAll(async () => {
    cluster = await Cluster.start({ hosts: 2 });
    deployed = (await deployClusterMesh(cluster, { mesh: 'certs', nodes: NODES, edges: EDGES })).nodes;
    nodes = await bootClusterNodes(cluster, deployed.slice(0, 2), COOKIE);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test('Connect CA rotated (new key and root, leaf TTL 1h) across hosts: new leaves served, no pang on new connections', async () => {
    const [app1, app2] = nodes;
    expect(await app1.pingUntil(app2.name, 'pong', 60_000)).toBe('pong');
    const served = () => nodes.map((n, i) => {
      const h = cluster.hosts[i];
      return servedCertificate(h.link.address, sidecarPort(n), inNs(h.link.ns));
    });
    const run = await rotateUnderRedial({ api: cluster.api, from: app1, peer: app2.name, served, label: 'consul 1.14.11 cluster' });
    expect(run.reissuedMs).toBeGreaterThanOrEqual(0);
    expect(lifetimeHours(run.servedAfter[1]!)).toBeLessThanOrEqual(1.05);
    const r = run.redial;
    expect(r.pangs).toBe(0);
    expect(r.pongs).toBeGreaterThan(20);
    expect(r.longestGapMs).toBeLessThan(3000);
    expect(await app2.pingUntil(app1.name, 'pong', 10_000)).toBe('pong');
  });

  test('an expired client certificate, then one of another CA, then a good one written while the helper waits: named, booted, renewed', async () => {
    const dir = path.join(cluster.work, 'jobs-tls');
    fs.mkdirSync(dir);
    const cert = path.join(dir, 'cli.pem');
    const key = path.join(dir, 'cli-key.pem');
    const put = (c: string, k: string) => {
      fs.copyFileSync(c, cert + '.new');
      fs.copyFileSync(k, key + '.new');
      fs.renameSync(key + '.new', key);
      fs.renameSync(cert + '.new', cert);
    };
    // Expired yesterday, signed by the agents' own CA (what a forgotten renewal looks like).
    const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old-key.pem', '-out', 'old.csr', '-subj', '/CN=cli']);
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'extendedKeyUsage=clientAuth\n');
    const caKey = path.join(cluster.tls.dir, 'consul-agent-ca-key.pem');
    const sign = ['x509', '-req', '-in', 'old.csr', '-CA', cluster.tls.ca, '-CAkey', caKey, '-CAcreateserial'];
    ossl([...sign, '-out', 'old.pem', '-days', '-1', '-extfile', 'ext.cnf']);
    // A certificate of a CA the agents do not trust (a CA the operator retired).
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    execFileSync(cluster.consul, ['tls', 'ca', 'create'], { cwd: other, stdio: 'ignore', timeout: 30_000 });
    execFileSync(cluster.consul, ['tls', 'cert', 'create', '-cli'], { cwd: other, stdio: 'ignore', timeout: 30_000 });
    put(path.join(dir, 'old.pem'), path.join(dir, 'old-key.pem'));

    const d = deployed[2];
    const jobs = await cluster.bootNode(cluster.hosts[1], {
      kv: d.kv,
      node: d.node,
      tokenFile: d.tokenFile,
      cookie: COOKIE,
      env: { CONSUL_CLIENT_CERT: cert, CONSUL_CLIENT_KEY: key },
      extraRunArgs: ['--consul-timeout', '120'],
      waitFor: 'nothing',
    });
    const waiting = 'waiting for the Consul agent at https://127\\.0\\.0\\.1:8501: ';
    const refused = `${waiting}the agent refused our client certificate ${esc(cert)} \\(--client-cert, \\$CONSUL_CLIENT_CERT\\): `;
    await jobs.waitForLog(new RegExp(refused + 'it expired at \\S+: TLS alert certificate expired'), 30_000);

    put(path.join(other, 'dc1-cli-consul-0.pem'), path.join(other, 'dc1-cli-consul-0-key.pem'));
    await jobs.waitForLog(new RegExp(`TLS files changed on disk, read again: --client-cert ${esc(cert)}, --client-key ${esc(key)}`), 30_000);
    const untrusted = 'is it signed by the CA the agent trusts \\(its ca_file\\)\\?: TLS alert (unknown ca|bad certificate)';
    await jobs.waitForLog(new RegExp(refused + untrusted), 30_000);

    put(cluster.tls.cli.cert, cluster.tls.cli.key);
    const fixedAt = Date.now();
    await jobs.waitForLog(/\[helper\] health passing/, 90_000);
    const said = jobs.output.split('\n').filter((l) => /waiting for the Consul agent|TLS files changed/.test(l));
    const fixedMs = Date.now() - fixedAt;
    process.stdout.write(`[agent-cert] client certificate fixed on disk -> health passing in ${fixedMs} ms; the helper said:\n${said.join('\n')}\n`);
    expect(await jobs.pingUntil(nodes[0].name, 'pong', 60_000)).toBe('pong');

    // Renewed while it runs (new files, same pair): read again between requests, the proxy started again with them.
    const proxyBefore = jobs.pidOf('proxy');
    const renewedAt = Date.now();
    put(cluster.tls.cli.cert, cluster.tls.cli.key);
    await jobs.waitForLog(/restarting the proxy: it reads the agent TLS files only when it starts/, 30_000);
    await jobs.waitForLog(/proxy back \(pid \d+\)/, 30_000);
    expect(jobs.pidOf('proxy')).not.toBe(proxyBefore);
    expect(await nodes[0].pingUntil(jobs.name, 'pong', 30_000)).toBe('pong');
    process.stdout.write(`[agent-cert] renewed files on disk of a running node -> proxy back and pong in ${Date.now() - renewedAt} ms\n`);
    // The key never in the log.
    expect(jobs.output).not.toContain(fs.readFileSync(cluster.tls.cli.key, 'utf8').split('\n')[1]);
  });
});

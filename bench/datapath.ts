// 6. Data path between two nodes: inet_tcp_dist direct, inet_tls_dist with mutual TLS pinned to the
// TLS version and cipher the mesh negotiates, and the mesh through built-in proxies; the same Erlang
// workloads (bench/erl/dist_bench.erl) on each, interleaved, with the CPU they cost.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MeshNode } from '../support/mesh-node';
import { BILLING, ORDERS, startMesh } from './fixtures';
import { beamPid, cpuNanos, fmt, fmtCi, goalAtLeast, goalAtMost, Progress, rounds, Section, shuffled, startRealEpmd, table } from './lib';
import { medianCi, ratioCi } from './stats';
import { captureHandshakes, Negotiated } from './tls-capture';
import { prose } from './results';

const ROUNDS = rounds(7);
const RTT_N = 5000;
const BULK_N = 32;
const PIPE_N = 50000;
const COOKIE = 'bench-' + Math.random().toString(36).slice(2);

type PathName = 'direct' | 'tls' | 'mesh';
interface Pair { readonly a: MeshNode; readonly b: string; readonly pids: number[]; readonly tls?: Negotiated; stop(): Promise<void> }
interface Samples { rttUs: number[]; bulkMiBs: number[]; pipeMsgs: number[]; cpuUsPerMiB: number[]; cpuUsPerMsg: number[] }

/** One round of the three workloads from A to B, with the CPU of every process on the path. */
async function round(p: Pair, into: Samples): Promise<void> {
  const run = async (expr: string) => {
    const c0 = p.pids.reduce((s, pid) => s + cpuNanos(pid), 0);
    const value = Number(await p.a.eval(expr, 180000));
    return { value, cpuUs: (p.pids.reduce((s, pid) => s + cpuNanos(pid), 0) - c0) / 1000 };
  };
  into.rttUs.push((await run(`dist_bench:rtt(list_to_atom("${p.b}"), ${RTT_N})`)).value);
  const bulk = await run(`dist_bench:bulk(list_to_atom("${p.b}"), ${BULK_N}, 1048576)`);
  into.bulkMiBs.push(bulk.value);
  into.cpuUsPerMiB.push(bulk.cpuUs / BULK_N);
  const pipe = await run(`dist_bench:pipelined(list_to_atom("${p.b}"), ${PIPE_N}, 64, 64)`);
  into.pipeMsgs.push(pipe.value);
  into.cpuUsPerMsg.push(pipe.cpuUs / PIPE_N);
}

/** A CA and one node certificate valid for both TLS node hosts (OTP 25 checks the host name). */
function makeCerts(dir: string): { cert: string; key: string; ca: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=meshx bench CA',
  ]);
  run([
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj',
    '/CN=bench node',
  ]);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:tls-a.bench.test,DNS:tls-b.bench.test\nextendedKeyUsage=serverAuth,clientAuth\n');
  run([
    'x509', '-req', '-in', 'node.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.pem', '-days', '2', '-extfile',
    'ext.cnf',
  ]);
  return { cert: path.join(dir, 'node.pem'), key: path.join(dir, 'node.key'), ca: path.join(dir, 'ca.pem') };
}

/** Two plain nodes; A is connected to B (and has the echo process started there). */
async function plainPair(names: [string, string], args: string[], env: NodeJS.ProcessEnv, capture: boolean): Promise<Pair> {
  const b = MeshNode.plain(names[1], ['-name', names[1], ...args], env);
  await b.eval('ok');
  const a = MeshNode.plain(names[0], ['-name', names[0], ...args], env);
  await a.eval('ok');
  const connect = async () => {
    if ((await a.ping(names[1])) !== 'pong') throw new Error(`${names[0]} could not reach ${names[1]}:\n${a.output}\n${b.output}`);
  };
  const port = capture ? Number(await a.eval(`element(2, erl_epmd:port_please("${names[1].split('@')[0]}", {127,0,0,1}))`)) : 0;
  const hellos = capture ? await captureHandshakes(port, connect) : (await connect(), []);
  await a.eval(`rpc:call(list_to_atom("${names[1]}"), dist_bench, echo, [])`);
  const stop = async () => void [a, b].forEach((n) => n.child.kill('SIGKILL'));
  return { a, b: names[1], pids: [beamPid(a.child.pid!), beamPid(b.child.pid!)], tls: hellos[0], stop };
}

async function meshPair(pa: string[]): Promise<Pair> {
  const mesh = await startMesh(COOKIE, [ORDERS, BILLING], pa);
  const [o, b] = mesh.nodes;
  const hellos = await captureHandshakes(b.state.sidecarPort, async () => {
    if ((await o.node.pingUntil(BILLING, 'pong', 20000)) !== 'pong') throw new Error('the mesh nodes did not connect');
  });
  await o.node.eval(`rpc:call(list_to_atom("${BILLING}"), dist_bench, echo, [])`);
  return { a: o.node, b: BILLING, pids: [o.pids.beam, b.pids.beam, o.pids.proxy, b.pids.proxy], tls: hellos[0], stop: mesh.stop };
}

/** inet_tls_dist options: mutual TLS, verify_peer, TLS 1.3 only, and the mesh's cipher when known. */
function tlsDistConf(dir: string, cipher?: string): string {
  const c = makeCerts(dir);
  const pin = `{versions, ['tlsv1.3']}${cipher?.startsWith('TLS_') ? `, {ciphers, ["${cipher}"]}` : ''}`;
  const opt = (side: 'server' | 'client') =>
    `{${side}, [{certfile, "${c.cert}"}, {keyfile, "${c.key}"}, {cacertfile, "${c.ca}"}, {verify, verify_peer}, ${pin}` +
    `${side === 'server' ? ', {fail_if_no_peer_cert, true}' : ''}]}`;
  fs.writeFileSync(path.join(dir, 'ssl_dist.conf'), `[${opt('server')}, ${opt('client')}].\n`);
  fs.writeFileSync(path.join(dir, 'inetrc'), '{lookup, [file, native]}.\n{host, {127,0,0,1}, ["tls-a.bench.test", "tls-b.bench.test"]}.\n');
  return path.join(dir, 'ssl_dist.conf');
}

export async function datapathBench(): Promise<Section> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bench-dp-'));
  execFileSync('erlc', ['-o', dir, path.join(__dirname, 'erl', 'dist_bench.erl')]);
  const pa = ['-pa', dir];
  const epmd = await startRealEpmd();
  const env = { ...process.env, ERL_EPMD_PORT: String(epmd.port) };
  const pairs: Partial<Record<PathName, Pair>> = {};
  const got: Record<PathName, Samples> = { direct: empty(), tls: empty(), mesh: empty() };
  try {
    pairs.mesh = await meshPair(pa);
    pairs.direct = await plainPair(['a@127.0.0.1', 'b@127.0.0.1'], ['-setcookie', COOKIE, ...pa], env, false);
    const conf = tlsDistConf(dir, pairs.mesh.tls?.cipher);
    pairs.tls = await plainPair(
      ['ta@tls-a.bench.test', 'tb@tls-b.bench.test'],
      ['-proto_dist', 'inet_tls', '-ssl_dist_optfile', conf, '-setcookie', COOKIE, ...pa],
      { ...env, ERL_INETRC: path.join(dir, 'inetrc') },
      true,
    );
    const progress = new Progress('datapath', ROUNDS);
    for (let i = 0; i < ROUNDS; i++) {
      for (const k of shuffled(['direct', 'tls', 'mesh'] as const)) await round(pairs[k]!, got[k]);
      progress.tick(`round trip µs: mesh ${fmt(got.mesh.rttUs[i])}, tls ${fmt(got.tls.rttUs[i])}, direct ${fmt(got.direct.rttUs[i])}`);
    }
  } finally {
    for (const p of Object.values(pairs)) await p.stop();
    epmd.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return render(got, pairs.mesh!.tls, pairs.tls!.tls);
}

const empty = (): Samples => ({ rttUs: [], bulkMiBs: [], pipeMsgs: [], cpuUsPerMiB: [], cpuUsPerMsg: [] });

function render(got: Record<PathName, Samples>, meshTls?: Negotiated, distTls?: Negotiated): Section {
  const { direct, tls, mesh } = got;
  const row = (name: string, s: Samples, digits = 0) => [
    name,
    ...(['rttUs', 'bulkMiBs', 'pipeMsgs', 'cpuUsPerMiB', 'cpuUsPerMsg'] as const).map((k) => fmtCi(medianCi(s[k]), k === 'cpuUsPerMsg' ? 1 : digits)),
  ];
  const ratio = (a: Samples, b: Samples) =>
    (['rttUs', 'bulkMiBs', 'pipeMsgs', 'cpuUsPerMiB', 'cpuUsPerMsg'] as const).map((k) => fmtCi(ratioCi(a[k], b[k])));
  const bulk = ratioCi(mesh.bulkMiBs, tls.bulkMiBs);
  const rtt = ratioCi(mesh.rttUs, tls.rttUs);
  const wire = (t?: Negotiated) => (t ? `${t.version}, ${t.cipher}` : 'not seen in the capture');
  return {
    title: '6. Data path between two nodes',
    markdown: [
      prose.datapath.method({ rttN: fmt(RTT_N), bulkN: BULK_N, pipeN: fmt(PIPE_N), rounds: ROUNDS, meshTls: wire(meshTls), distTls: wire(distTls) }),
      '',
      prose.datapath.cpu,
      '',
      table(
        ['path', 'round trip (µs)', '1 MiB + ack (MiB/s)', 'pipelined 64 B (msg/s)', 'CPU µs per MiB', 'CPU µs per message'],
        [row('inet_tcp_dist direct', direct), row('inet_tls_dist, mutual TLS', tls), row('meshx-node mesh, built-in proxies', mesh)],
      ),
      '',
      table(
        ['ratio', 'round trip', 'throughput 1 MiB', 'pipelined', 'CPU per MiB', 'CPU per message'],
        [
          ['mesh / inet_tls_dist', ...ratio(mesh, tls)],
          ['mesh / direct', ...ratio(mesh, direct)],
        ],
      ),
      '',
      prose.datapath.limits,
    ].join('\n'),
    goals: [
      goalAtLeast('mesh 1 MiB throughput >= 3x inet_tls_dist', bulk, 3, 2, 'x'),
      goalAtMost('mesh round trip <= inet_tls_dist (ratio)', rtt, 1),
    ],
    samples: got,
    facts: { 'TLS, mesh (built-in proxy to built-in proxy)': wire(meshTls), 'TLS, inet_tls_dist (pinned)': wire(distTls) },
  };
}

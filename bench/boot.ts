// 2. Boot latency, both ways: from spawning a new node to its first outbound pong, and to the
// first pong an already running peer gets from it; `meshx-node run` vs a plain `erl -name` with the
// real epmd and inet_tcp_dist.
import { ChildProcess, spawn } from 'node:child_process';
import { TwoNodesStack } from '../examples/two-nodes/stack';
import { IntentionsMode } from '../lib';
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { BIN, MeshNode } from '../support/mesh-node';
import { synthToDir } from '../support/synth';
import { deploySynth } from '../support/terraform';
import { fmt, fmtCi, goalAtMost, log, median, Progress, rounds, Section, shuffled, startRealEpmd, table } from './lib';
import { differenceCi, medianCi, ratioCi } from './stats';
import { prose } from './results';

const ROUNDS = rounds(10);
const COOKIE = 'bench-' + Math.random().toString(36).slice(2);
const ORDERS = 'orders@orders-1.shop.test';
const BILLING = 'billing@billing-1.shop.test';
/** Ping until pong every 10 ms, at most 3,000 tries (bounded). */
const pingLoop = (peer: string) =>
  `L = fun Loop(N) when N < 3000 -> case net_adm:ping(list_to_atom("${peer}")) of ` +
  'pong -> io:format("PONG ~p~n", [N]), halt(0); pang -> timer:sleep(10), Loop(N + 1) end; Loop(_) -> halt(3) end, L(0).';
const pingExpr = (peer: string) =>
  `(fun L(N) when N < 3000 -> case net_adm:ping(list_to_atom("${peer}")) of pong -> N; ` +
  `pang -> erlang:disconnect_node(list_to_atom("${peer}")), timer:sleep(10), L(N + 1) end; L(_) -> timeout end)(0)`;

const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));

/** Spawns a node that pings `peer` itself; resolves with ms from spawn to its PONG line. */
function outbound(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no pong within 60 s:\n${out}`)); }, 60000);
    const onData = (d: Buffer) => {
      out += d;
      if (/PONG \d+/.test(out)) {
        clearTimeout(timer);
        resolve({ ms: since(t0), out, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

/**
 * The running `peer` pings the new node from before its spawn; ms from spawn to that pong. A plain
 * BEAM is killed (OTP 25 may drop a SIGTERM early in its boot); the helper repeats SIGTERM itself.
 */
async function inbound(peer: MeshNode, target: string, spawnNew: () => Promise<MeshNode> | MeshNode, stopSignal: NodeJS.Signals): Promise<number> {
  const answer = peer.eval(pingExpr(target), 60000);
  const t0 = process.hrtime.bigint();
  const node = await spawnNew();
  try {
    const tries = await answer;
    if (tries === 'timeout') throw new Error(`${peer.name} got no pong from ${target}:\n${node.output.slice(-2000)}`);
    return since(t0);
  } finally {
    await node.stop(stopSignal);
    await peer.eval(`erlang:disconnect_node(list_to_atom("${target}"))`);
  }
}

interface Fixture { plainEnv: NodeJS.ProcessEnv; plainPeer: MeshNode; outdir: string; agent: DevAgent; meshPeer: MeshNode; stop: () => Promise<void> }

async function fixture(): Promise<Fixture> {
  const epmd = await startRealEpmd();
  const plainEnv = { ...process.env, ERL_EPMD_PORT: String(epmd.port) };
  const plainPeer = MeshNode.plain('peer@127.0.0.1', ['-name', 'peer@127.0.0.1', '-setcookie', COOKIE], plainEnv);
  let agent: DevAgent | undefined;
  let meshPeer: MeshNode | undefined;
  const stop = async () => {
    await meshPeer?.stop('SIGTERM');
    plainPeer.child.kill('SIGKILL');
    epmd.stop();
    await agent?.stop();
  };
  try {
    await plainPeer.eval('ok');
    agent = await DevAgent.start();
    const started = agent;
    const { outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    await deploySynth(outdir, 'two-nodes', started);
    meshPeer = await MeshNode.start({ from: outdir, node: BILLING, consulAddr: started.httpAddr, cookie: COOKIE });
    await waitDiscoverable(started.api, ['shop-billing']);
    return { plainEnv, plainPeer, outdir, agent: started, meshPeer, stop };
  } catch (e) {
    await stop(); // a failed setup leaves nothing running
    throw e;
  }
}

type Variant = 'plain-out' | 'mesh-out' | 'plain-in' | 'mesh-in';

async function measure(f: Fixture, v: Variant, i: number, steps: Record<string, number[]>): Promise<number> {
  if (v === 'plain-out') {
    const p = await outbound('erl', ['-name', `a${i}@127.0.0.1`, '-setcookie', COOKIE, '-noshell', '-eval', pingLoop('peer@127.0.0.1')], f.plainEnv);
    await exited(p.child);
    return p.ms;
  }
  if (v === 'mesh-out') {
    const m = await outbound(
      process.execPath,
      [
        BIN, 'run', '--from', f.outdir, '--node', ORDERS, '--consul-addr', f.agent.httpAddr, '--', 'erl', '-name', ORDERS, '-setcookie',
        COOKIE, '-noshell', '-eval', pingLoop(BILLING), ], process.env,
    );
    const line = m.out.match(/boot steps: (.*) \(total/);
    for (const [, name, ms] of (line?.[1] ?? '').matchAll(/([\w-]+) (\d+) ms/g)) (steps[name] ??= []).push(Number(ms));
    await exited(m.child); // the BEAM halts after pong; the helper deregisters and exits
    return m.ms;
  }
  if (v === 'plain-in')
    return inbound(
      f.plainPeer,
      `b${i}@127.0.0.1`,
      () => MeshNode.plain(`b${i}@127.0.0.1`, ['-name', `b${i}@127.0.0.1`, '-setcookie', COOKIE], f.plainEnv),
      'SIGKILL',
    );
  return inbound(
    f.meshPeer,
    ORDERS,
    () => MeshNode.start({ from: f.outdir, node: ORDERS, consulAddr: f.agent.httpAddr, cookie: COOKIE, waitFor: 'nothing' }),
    'SIGTERM',
  );
}

export async function bootBench(): Promise<Section> {
  const f = await fixture();
  const got: Record<Variant, number[]> = { 'plain-out': [], 'mesh-out': [], 'plain-in': [], 'mesh-in': [] };
  const steps: Record<string, number[]> = {};
  const progress = new Progress('boot', ROUNDS);
  try {
    for (let i = 0; i < ROUNDS; i++) {
      for (const v of shuffled(Object.keys(got) as Variant[])) {
        if (process.env.MESHX_BENCH_VERBOSE) log(`boot round ${i + 1}: ${v}`);
        got[v].push(await measure(f, v, i, steps));
      }
      const mesh = `${fmt(got['mesh-out'][i])} ms / in ${fmt(got['mesh-in'][i])}`;
      const plain = `${fmt(got['plain-out'][i])} / in ${fmt(got['plain-in'][i])}`;
      progress.tick(`mesh out ${mesh} ms, plain out ${plain} ms`);
    }
  } finally {
    await f.stop();
  }
  const out = ratioCi(got['mesh-out'], got['plain-out']);
  const inb = ratioCi(got['mesh-in'], got['plain-in']);
  const row = (label: string, mesh: number[], plain: number[]) => [
    label,
    fmtCi(medianCi(plain), 0),
    fmtCi(medianCi(mesh), 0),
    fmtCi(differenceCi(mesh, plain), 0),
    fmtCi(ratioCi(mesh, plain)),
  ];
  return {
    title: '2. Boot latency, both ways',
    markdown: [
      prose.boot.method(ROUNDS),
      '',
      table(
        ['direction', 'plain erl -name', 'meshx-node run', 'overhead', 'ratio'],
        [
          row('outbound: new node pings a running peer', got['mesh-out'], got['plain-out']),
          row('inbound: a running peer pings the new node', got['mesh-in'], got['plain-in']),
        ],
      ),
      '',
      prose.boot.steps,
      '',
      table(
        ['step', 'ms'],
        Object.entries(steps).map(([k, v]) => [k, fmt(median(v))]),
      ),
    ].join('\n'),
    goals: [
      goalAtMost('mesh boot <= 1.5x plain erl -name, outbound', out, 1.5),
      goalAtMost('mesh boot <= 1.5x plain erl -name, inbound (catalog propagation included)', inb, 1.5),
    ],
    samples: { ...got, steps },
  };
}

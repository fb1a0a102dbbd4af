// 2. Boot latency: `meshx-node run` start to the first pong through the mesh, vs a plain
// `erl -name` boot to the first pong over inet_tcp_dist with the real epmd.
import { ChildProcess, spawn } from 'node:child_process';
import { TwoNodesStack } from '../examples/two-nodes/stack';
import { IntentionsMode } from '../lib';
import { deploySynth } from '../support/terraform';
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { BIN, MeshNode } from '../support/mesh-node';
import { synthToDir } from '../support/synth';
import { fmt, log, median, Section, startRealEpmd, table } from './lib';

const RUNS = 5;
const COOKIE = 'bench-' + Math.random().toString(36).slice(2);
const pingLoop = (peer: string) => `L = fun Loop(N) -> case net_adm:ping(list_to_atom("${peer}")) of pong -> io:format("PONG ~p~n", [N]), halt(0); pang -> timer:sleep(10), Loop(N + 1) end end, L(0).`;

/** Spawns, waits for PONG on stdout; resolves with ms since spawn and everything printed. */
function timeToPong(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no pong within 60 s:\n${out}`)); }, 60000);
    const onData = (d: Buffer) => {
      out += d;
      if (/PONG \d+/.test(out)) {
        clearTimeout(timer);
        resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, out, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)));

export async function bootBench(): Promise<Section> {
  const orders = 'orders@orders-1.shop.test';
  const billing = 'billing@billing-1.shop.test';
  // Baseline: two plain nodes, real epmd.
  const epmd = await startRealEpmd();
  const plainEnv = { ...process.env, ERL_EPMD_PORT: String(epmd.port) };
  const peer = MeshNode.plain('peer@127.0.0.1', ['-name', 'peer@127.0.0.1', '-setcookie', COOKIE], plainEnv);
  await peer.eval('ok');
  // Mesh: a running billing node; orders boots and pings it.
  const agent = await DevAgent.start();
  const { outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
  await deploySynth(outdir, 'two-nodes', agent);
  const target = await MeshNode.start({ from: outdir, node: billing, consulAddr: agent.httpAddr, cookie: COOKIE });
  await waitDiscoverable(agent.api, ['shop-billing']);

  const plain: number[] = [];
  const mesh: number[] = [];
  const steps: Record<string, number[]> = {};
  try {
    for (let i = 0; i < RUNS; i++) {
      const p = await timeToPong('erl', ['-name', `a${i}@127.0.0.1`, '-setcookie', COOKIE, '-noshell', '-eval', pingLoop('peer@127.0.0.1')], plainEnv);
      plain.push(p.ms);
      await exited(p.child);
      const m = await timeToPong(process.execPath, [BIN, 'run', '--from', outdir, '--node', orders, '--consul-addr', agent.httpAddr, '--', 'erl', '-name', orders, '-setcookie', COOKIE, '-noshell', '-eval', pingLoop(billing)], process.env);
      mesh.push(m.ms);
      const line = m.out.match(/boot steps: (.*) \(total/);
      for (const [, name, ms] of (line?.[1] ?? '').matchAll(/([\w-]+) (\d+) ms/g)) (steps[name] ??= []).push(Number(ms));
      await exited(m.child); // the BEAM halts after pong; the helper deregisters and exits
      log(`boot run ${i + 1}: mesh ${fmt(m.ms)} ms, plain ${fmt(p.ms)} ms`);
    }
  } finally {
    await target.stop('SIGTERM');
    peer.child.kill('SIGKILL');
    epmd.stop();
    await agent.stop();
  }
  const mm = median(mesh);
  const pm = median(plain);
  const stepRows = Object.entries(steps).map(([k, v]) => [k, fmt(median(v))]);
  return {
    title: '2. Boot latency: start to first pong',
    markdown: [
      `From spawning the command to the first \`pong\` from an already running peer; median of ${RUNS} interleaved runs. Mesh: \`meshx-node run … -- erl -name …\` with the built-in proxy, against a Consul 1.8.7 dev agent. Plain: \`erl -name\` with the real epmd and inet_tcp_dist.`,
      '',
      table(['path', 'boot to pong (ms)', 'overhead (ms)', 'ratio'], [['plain erl -name, real epmd', fmt(pm), '', ''], ['meshx-node run, built-in proxy', fmt(mm), fmt(mm - pm), fmt(mm / pm, 2)]]),
      '',
      'Where the mesh boot goes (helper log `boot steps`, median ms; `beam` is from spawning the BEAM to its EPMD registration):',
      '',
      table(['step', 'ms'], stepRows),
    ].join('\n'),
    goals: [{ goal: 'mesh boot overhead <= 1.5 s (built-in proxy)', met: mm - pm <= 1500, value: `${fmt(mm - pm)} ms` }],
  };
}

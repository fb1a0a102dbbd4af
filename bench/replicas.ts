// Replica groups on the production-shaped cluster (support/cluster, the group set up by hand in
// support/cluster/group.ts): (1) join latency, from a new replica turning passing to the first
// pong a running replica on another host gets from it; (2) formation of 3 hosts x 8 replicas from
// a cold start against plain `erl -name` nodes that find each other with net_adm:world_list/1.
// Run alone: `npx ts-node --transpile-only --project tsconfig.dev.json bench/replicas.ts [joinRounds] [formationRounds]`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stopChild } from '../lib/runtime/child';
import { Cluster, ClusterHost } from '../support/cluster/cluster';
import { ClusterGroup, replicaName } from '../support/cluster/group';
import { inNs } from '../support/cluster/netns';
import { MeshNode } from '../support/mesh-node';
import { pingAll, settleAll, startEpmds } from './cluster';
import { log, shuffled } from './lib';

const MESH = 'rx';
const SERVICE = 'rx-api';
const ALIVE = 'api';
export const HOSTS = 3;
export const PER_HOST = 8;
/** Pause between the running replica's pings of the joining one. */
export const PING_EVERY_MS = 5;
/** Join: not a full mesh, so OTP's global does not connect the new replica through a third node. */
const JOIN_BEAM_ARGS = ['-connect_all', 'false'];

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A line's arrival in this process: performance.now() (monotonic, ms) and the match. */
interface Stamp {
  readonly at: number;
  readonly match: RegExpMatchArray;
}

/**
 * The arrival of the next output of `node` (stdout or stderr, each read on its own) that matches
 * `re`, counting only what arrives after the call. Every helper, proxy and BEAM line reaches this
 * process through a pipe (the helper writes its log synchronously), so all events are stamped on
 * the one clock. The returned promise is marked handled: an abandoned watch cannot crash the run.
 */
function nextLine(node: MeshNode, re: RegExp, timeoutMs: number): Promise<Stamp> {
  const streams = [node.child.stdout!, node.child.stderr!];
  const seen = streams.map(() => '');
  let cleanup = (): void => undefined;
  const p = new Promise<Stamp>((resolve, reject) => {
    const handlers = streams.map((s, i) => {
      const h = (d: Buffer): void => {
        const at = performance.now();
        seen[i] += d.toString();
        const m = seen[i].match(re);
        if (m) {
          cleanup();
          resolve({ at, match: m });
        }
      };
      s.on('data', h);
      return h;
    });
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${node.name}: no ${re} within ${timeoutMs} ms; output:\n${node.output.slice(-3000)}`));
    }, timeoutMs);
    cleanup = () => {
      clearTimeout(timer);
      streams.forEach((s, i) => s.off('data', handlers[i]));
    };
  });
  p.catch(() => undefined);
  return p;
}

/**
 * Erlang for the running replica: prints PINGLOOP (so the bench knows the loop runs), then pings
 * `peer` every PING_EVERY_MS until pong (a new connection each try), at most 60 s; on pong prints
 * `PONG <peer> <os:system_time µs>` at once and returns the number of tries.
 */
function pingLoopExpr(peer: string): string {
  return [
    `begin T = list_to_atom("${peer}"), io:format("~nPINGLOOP ${peer}~n"), Until = erlang:monotonic_time(millisecond) + 60000`,
    '(fun L(N) -> case net_adm:ping(T) of ' +
      `pong -> io:format("~nPONG ${peer} ~b~n", [os:system_time(microsecond)]), N; ` +
      'pang -> erlang:disconnect_node(T), case erlang:monotonic_time(millisecond) > Until of true -> timeout; ' +
      `false -> timer:sleep(${PING_EVERY_MS}), L(N + 1) end end end)(0) end`,
  ].join(', ');
}

/** Helper log lines worth a look after a run (failures, retries), with node names and numbers masked, counted. */
function notesOf(nodes: MeshNode[], into: Record<string, number>): void {
  for (const n of nodes) {
    for (const line of n.output.split('\n')) {
      if (!/\]\[(helper|proxy)\] .*(fail|error|not applied|retrying|refus|left out|timed? ?out)/i.test(line)) continue;
      const key = line.replace(/[a-z]+@[A-Za-z0-9.-]+/g, '<node>').replace(/\d+/g, '#').slice(0, 300);
      into[key] = (into[key] ?? 0) + 1;
    }
  }
}

export interface JoinSamples {
  /** ms from the new replica's helper logging `health passing` to the pinging replica's first pong from it. */
  pong: number[];
  /** ms from that `health passing` to the pinging replica's helper logging `members of <svc>: added <new>`. */
  added: number[];
  /** The same for the other running replica (the one not pinging). */
  addedOther: number[];
  /** ms from spawning the new replica's helper to its `health passing`. */
  boot: number[];
  /** ms from the BEAM's os:system_time at pong to the PONG line's arrival here (the pipe and event-loop delay). */
  lag: number[];
  /** Host (1 or 2) of the pinging replica in each sample. */
  pinger: number[];
}

export interface FormationSamples {
  /** ms from starting all 24 helpers to every ordered pair answering pong. */
  mesh: number[];
  /** ms from starting them to the last helper's `health passing`. */
  meshPassing: number[];
  /** ms from starting them to the last helper logging all 23 peers routed (`members of <svc>: …; 23 upstreams`). */
  meshMembers: number[];
  /** ms from starting 24 plain `erl -name` to every node having found all 23 others with world_list and pinged them. */
  plain: number[];
}

export interface ReplicaSamples {
  join: JoinSamples;
  formation: FormationSamples;
  /** Helper and proxy log lines about failures or retries, masked, with their counts. */
  notes: Record<string, number>;
}

/**
 * One join: `running[pinger]` pings the name of a replica that does not exist yet; the replica
 * boots on `host`; stamps of its `health passing`, of each running helper's `added` line and of
 * the pong. Then the replica is stopped and the sample waits until both running helpers removed
 * it and the catalog no longer lists it.
 */
async function joinSample(g: ClusterGroup, running: MeshNode[], pinger: number, host: ClusterHost, name: string, cookie: string) {
  const p = running[pinger];
  const loopStarted = nextLine(p, new RegExp(`PINGLOOP ${esc(name)}\\n`), 15_000);
  const loop = p.eval(pingLoopExpr(name), 75_000);
  loop.catch(() => undefined);
  await loopStarted;
  const added = running.map((r) => nextLine(r, new RegExp(`\\[helper\\] members of ${SERVICE}: added [^;\\n]*${esc(name)}[;,\\n]`), 60_000));
  const pong = nextLine(p, new RegExp(`PONG ${esc(name)} (\\d+)\\n`), 65_000);
  const t0 = performance.now();
  const node = await g.boot(host, name, { cookie, waitFor: 'nothing', beamArgs: JOIN_BEAM_ARGS });
  const passing = nextLine(node, /\[helper\] health passing/, 60_000);
  try {
    const [pass, pongAt, addedAt] = await Promise.all([passing, pong, Promise.all(added)]);
    const tries = await loop;
    if (!/^\d+$/.test(tries)) throw new Error(`${p.name}: ping loop ended with ${tries}`);
    const lag = (performance.timeOrigin + pongAt.at) - Number(pongAt.match[1]) / 1000;
    const removedRe = new RegExp(`\\[helper\\] members of ${SERVICE}: added [^;\\n]*; removed [^;\\n]*${esc(name)}`);
    const removed = running.map((r) => nextLine(r, removedRe, 30_000));
    await g.stop([node]);
    await Promise.all(removed);
    return {
      pong: pongAt.at - pass.at,
      added: addedAt[pinger].at - pass.at,
      addedOther: addedAt[1 - pinger].at - pass.at,
      boot: pass.at - t0,
      lag,
    };
  } finally {
    await g.stop([node]);
    await g.waitInstances(running.map((r) => r.name), 30_000);
  }
}

async function meshFormation(g: ClusterGroup, cookie: string, round: number): Promise<{ total: number; passing: number; members: number }> {
  const hosts = g.cluster.hosts;
  const specs = hosts.flatMap((h, hi) => Array.from({ length: PER_HOST }, (_, k) => ({ host: h, name: replicaName(ALIVE, hi + 1, k + 1) })));
  const names = specs.map((s) => s.name);
  const booted: MeshNode[] = [];
  let lastPassing = 0;
  let lastMembers = 0;
  const t0 = performance.now();
  try {
    await settleAll(
      specs.map(async (s) => {
        const stateDir = path.join(g.cluster.work, s.host.name, `state-${s.name.replace(/[^a-z0-9]/gi, '-')}-f${round}`);
        const n = await g.boot(s.host, s.name, { cookie, stateDir, waitFor: 'nothing' });
        booted.push(n);
        // Stamped from the spawn on (no output can arrive before these watches are set).
        const passing = nextLine(n, /\[helper\] health passing/, 90_000);
        const members = nextLine(n, new RegExp(`\\[helper\\] members of ${SERVICE}: [^\\n]*; ${names.length - 1} upstreams\\n`), 120_000);
        lastPassing = Math.max(lastPassing, (await passing).at - t0);
        const [, m] = await Promise.all([pingAll(n, names), members]);
        lastMembers = Math.max(lastMembers, m.at - t0);
      }),
    );
    return { total: performance.now() - t0, passing: lastPassing, members: lastMembers };
  } finally {
    notesOf(booted, notes);
    keepLogs(booted, `formation-${round}`);
    await g.stop(booted);
    await g.waitInstances([], 60_000);
  }
}

/** world_list/1 over the hosts until it found `want` others (50 ms between tries, 60 s at most), then a ping of each. */
function worldListExpr(hosts: string[], want: number): string {
  const hs = hosts.map((h) => `'${h}'`).join(',');
  return [
    `begin Hosts = [${hs}], Until = erlang:monotonic_time(millisecond) + 60000`,
    'Found = (fun L(Acc) -> Acc2 = lists:usort(Acc ++ (net_adm:world_list(Hosts) -- [node()])), ' +
      `case length(Acc2) >= ${want} orelse erlang:monotonic_time(millisecond) > Until of true -> Acc2; ` +
      'false -> timer:sleep(50), L(Acc2) end end)([])',
    '{length(Found), [P || P <- Found, net_adm:ping(P) =/= pong]} end',
  ].join(', ');
}

async function plainFormation(cluster: Cluster, cookie: string): Promise<number> {
  const specs = cluster.hosts.flatMap((h) => Array.from({ length: PER_HOST }, (_, k) => ({ host: h, name: `p${k + 1}@${h.link.address}` })));
  const want = specs.length - 1;
  const hosts = cluster.hosts.map((h) => h.link.address);
  const t0 = performance.now();
  const erl = (name: string) => ['-name', name, '-setcookie', cookie, '-start_epmd', 'false'];
  const nodes = specs.map((s) => MeshNode.plain(s.name, erl(s.name), process.env, inNs(s.host.link.ns)));
  try {
    await settleAll(
      nodes.map(async (n) => {
        const got = await n.eval(worldListExpr(hosts, want), 70_000);
        if (got !== `{${want},[]}`) throw new Error(`${n.name}: world_list found ${got}, not {${want},[]}`);
      }),
    );
    return performance.now() - t0;
  } finally {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  }
}

const notes: Record<string, number> = {};

/** With MESHX_BENCH_LOGS=<dir>, each node's whole output is kept there (for a look at a slow run). */
function keepLogs(nodes: MeshNode[], what: string): void {
  const dir = process.env.MESHX_BENCH_LOGS;
  if (!dir) return;
  fs.mkdirSync(path.join(dir, what), { recursive: true });
  for (const n of nodes) fs.writeFileSync(path.join(dir, what, `${n.name}.log`), n.output);
}

/**
 * `joinRounds` rounds of two joins (the pinging replica on host 1 or on host 2, in a random order
 * per round), then `formationRounds` rounds of mesh and plain formation (random order per round).
 * One cluster for everything; every process and namespace is removed on the way out.
 */
export async function replicaSamples(
  joinRounds: number,
  formationRounds: number,
  onRound?: (what: string) => void,
): Promise<ReplicaSamples> {
  const cookie = 'bench-' + Math.random().toString(36).slice(2);
  for (const k of Object.keys(notes)) delete notes[k];
  const join: JoinSamples = { pong: [], added: [], addedOther: [], boot: [], lag: [], pinger: [] };
  const formation: FormationSamples = { mesh: [], meshPassing: [], meshMembers: [], plain: [] };
  const cluster = await Cluster.start({ hosts: HOSTS });
  const epmds = startEpmds(cluster);
  try {
    const g = await ClusterGroup.create(cluster, { mesh: MESH, service: SERVICE, alive: ALIVE });
    const [h1, h2, h3] = cluster.hosts;
    const running = [
      await g.boot(h1, replicaName(ALIVE, 1, 1), { cookie, beamArgs: JOIN_BEAM_ARGS }),
      await g.boot(h2, replicaName(ALIVE, 2, 1), { cookie, beamArgs: JOIN_BEAM_ARGS }),
    ];
    for (const [a, b] of [[0, 1], [1, 0]]) {
      const got = await running[a].pingUntil(running[b].name, 'pong', 30_000);
      if (got !== 'pong') throw new Error(`${running[a].name} got ${got} from ${running[b].name}`);
    }
    let seq = 0;
    for (let r = 0; r < joinRounds; r++) {
      const line: string[] = [];
      for (const pinger of shuffled([0, 1])) {
        const s = await joinSample(g, running, pinger, h3, replicaName(ALIVE, 3, `j${++seq}`), cookie);
        join.pong.push(s.pong);
        join.added.push(s.added);
        join.addedOther.push(s.addedOther);
        join.boot.push(s.boot);
        join.lag.push(s.lag);
        join.pinger.push(pinger + 1);
        line.push(`host ${pinger + 1}: added ${s.added.toFixed(0)} ms, pong ${s.pong.toFixed(0)} ms`);
      }
      onRound?.(`join: ${line.join('; ')}`);
    }
    notesOf(running, notes);
    keepLogs(running, 'join');
    await g.stop(running);
    await g.waitInstances([], 30_000);
    for (let r = 0; r < formationRounds; r++) {
      const line: string[] = [];
      for (const k of shuffled(['mesh', 'plain'] as const)) {
        if (k === 'plain') {
          formation.plain.push(await plainFormation(cluster, cookie));
          line.push(`plain ${formation.plain.at(-1)!.toFixed(0)} ms`);
        } else {
          const m = await meshFormation(g, cookie, r);
          formation.mesh.push(m.total);
          formation.meshPassing.push(m.passing);
          formation.meshMembers.push(m.members);
          line.push(`mesh ${m.total.toFixed(0)} ms (last passing ${m.passing.toFixed(0)}, last with all members ${m.members.toFixed(0)})`);
        }
      }
      onRound?.(`formation: ${line.join(', ')}`);
    }
  } finally {
    await Promise.all(epmds.map((e) => stopChild(e, 2000)));
    await cluster.stop();
  }
  for (const [k, v] of Object.entries(notes)) log(`replicas: helper log ${v}x: ${k}`);
  return { join, formation, notes: { ...notes } };
}

if (require.main === module) {
  replicaSamples(Number(process.argv[2] ?? 2), Number(process.argv[3] ?? 1), (w) => log(w)).then(
    (s) => console.log(JSON.stringify(s)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

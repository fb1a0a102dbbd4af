// Renders bench/results.md from the saved section records (bench/samples/*.json), and holds the
// report's prose: the sections compute figures, the words of the report are here.
import { RunEnv } from './env';
import { Section, table } from './lib';

export interface SectionRecord extends Section {
  readonly name: string;
  readonly env: RunEnv;
}

const VERDICT = { met: 'yes', missed: '**no**', undecided: 'undecided (interval spans the goal)' } as const;

/** A paragraph written over several lines here, rendered as the one line it was. */
const para = (s: string): string => s.replace(/\s*\n\s*/g, ' ');

/**
 * The report's prose: how each figure was measured and how to read it. The sections compute the
 * figures and pass them in; the words live here, with the rest of the report's layout.
 */
export const prose = {
  samples:
    para(`Each section keeps its raw samples in \`bench/samples/<section>.json\`; a one-section run (\`npm run bench --
    boot\`) replaces only that section, so sections may come from different runs:`),
  facts: para(`Measured in the run (TLS as negotiated on the wire, read from the ServerHello of each side):`),
  noise:
    para(`The machine is shared and noisy: every figure is a median with its 95% percentile-bootstrap confidence interval
    \`[lo, hi]\` from the raw samples; variants are interleaved in a random order inside each round. A goal is **met**
    only when the whole interval clears it, **no** when the whole interval misses it, and undecided otherwise.`),
  synth: {
    method: (rounds: string): string =>
      para(`Time from constructing the stack to \`app.synth()\` written to disk, and peak RSS, each run in a fresh Node
      process; ${rounds} rounds per size, the two variants in a random order in each round. Both variants emit
      identical resources (checked: same counts and the same manifest bytes). Ratios are BeamMesh / by hand, with
      their 95% bootstrap intervals; the CPU time ratio is of the processes' CPU time over the same span (all
      threads), which a machine shared with other work disturbs far less than the time.`),
    fit: (fixed: string, perResource: string, perEdge: string): string =>
      para(`Least-squares fit of BeamMesh time = a + b·resources + c·edges: ${fixed} ms + ${perResource} µs per resource +
      ${perEdge} µs per edge.`),
    fitVsMeasured: (pairs: string): string =>
      para(`Fit vs measured (ms): ${pairs} — the large cases sit on the line; the smallest is below the fixed part, which is
      mostly process warm-up.`),
  },
  boot: {
    method: (rounds: number): string =>
      para(`From spawning the new node to (outbound) its own first \`pong\` from an already running peer, and (inbound) the
      first \`pong\` that already running peer gets from the new node, pinging every 10 ms from before the spawn: that
      includes the catalog propagation of the new sidecar to the peer's upstream. ${rounds} rounds, the four variants
      in a random order in each. Mesh: \`meshx-node run … -- erl -name …\` with the built-in proxy, against a Consul
      1.8.7 dev agent (two-nodes example, LEGACY intentions, no ACLs). Plain: \`erl -name\` with the real epmd and
      inet_tcp_dist. ms, medians with 95% bootstrap intervals.`),
    steps:
      para(`Where the outbound mesh boot goes (helper log \`boot steps\`, median ms; \`beam\` is from spawning the BEAM to
      its EPMD registration, \`proxy-ready\` from spawning the proxy, right after the BEAM, to its listeners: the two
      overlap):`),
  },
  cluster: {
    method: (rounds: number): string =>
      para(`The production-shaped cluster of the test suite (support/cluster: 3 hosts as network namespaces on one bridge,
      one Consul 1.14.11 server and a client agent per host with ACLs default deny, gossip encryption, TLS RPC,
      HTTPS-only API with verify_incoming), the cluster stack deployed once through terraform. Each sample: 3 hosts ×
      4 nodes in a full mesh, all 12 \`meshx-node run\` helpers started at once with their own tokens and \`--kv\`,
      until every ordered pair has answered pong (each node pings its 11 peers at once as soon as its own helper
      reports its health check passing, each peer until pong, 50 ms between tries). Plain: the same 12 names as \`erl
      -name\` with one real epmd per host and inet_tcp_dist. ${rounds} rounds, the two in a random order in each. ms,
      medians with 95% bootstrap intervals.`),
    time: (booted: string, cpus: number): string =>
      para(`Where the mesh's time goes: ${booted} ms until the last of the 12 helpers reported its health check passing
      (each helper boots: register, BEAM, proxy, while 11 others on the 3 hosts do the same on ${cpus} shared vCPUs;
      the 12 helpers, proxies and BEAMs all start at once, so this phase is CPU-bound), then the pings until the last
      pair answers (each new sidecar has to reach the other proxies' upstream lists through the servers' catalog
      before the first connection to it succeeds).`),
  },
  replicas: {
    join: (rounds: number, samples: number, everyMs: number): string =>
      para(`One replica group on the cluster of section 3 (3 hosts as network namespaces, Consul 1.14.11, ACLs default
      deny, HTTPS agents, built-in proxies), set up by hand as a deploy will (support/cluster/group.ts): the group
      manifest in KV, the mesh's prepared-query template, a \`svc -> svc\` allow (service-intentions config entry),
      one token per replica (the service identity plus read on the manifest key). Each replica is \`meshx-node run
      --kv <group key> --node-name api@r<k>.app-<h>.cluster.test -- erl -name …\`. Join (BEAMs with \`-connect_all
      false\`, so that only the pinger's own connection counts):
      replicas run on app-1 and app-2; one of them (the pinger, app-1 or app-2, both once per round in a random order)
      pings a name that does not exist yet every ${everyMs} ms (a new connection per try), then a new replica boots on
      app-3. Every event is stamped on one clock, the bench process's monotonic \`performance.now()\`, when its line
      arrives through the pipe from the process that wrote it: the new helper's \`health passing\` (its TTL check
      accepted as passing by its agent), each running helper's \`members of … added <new>\`, and the pinger BEAM's
      \`PONG\` line, printed as \`net_adm:ping/1\` returns pong. Between samples the new replica is stopped and the
      sample waits until both running helpers removed it and the catalog no longer lists it; each sample's replica has
      a new name. ${rounds} rounds, ${samples} samples. ms, medians with 95% bootstrap intervals.`),
    joinRest: (rest: string, boot: string, lag: string): string =>
      para(`From the pinger's helper adding the new member to the pong: ${rest} ms (the sidecar registered again with the new
      prepared-query upstream and its listener proven, the EPMD route and DNS entry, then the pinger's next try: its
      connection through both sidecars and the handshake). The new replica's own boot, from spawning its helper to
      \`health passing\`: ${boot} ms. How late the lines arrive: the PONG line carries the BEAM's
      \`os:system_time(microsecond)\`, and it reached the bench ${lag} ms later (wall clocks, same machine): the pipe
      and event-loop delay in every stamp is well under a millisecond.`),
    formation: (rounds: number, hosts: number, perHost: number): string =>
      para(`Formation: ${hosts} hosts × ${perHost} replicas of the one group from a cold start: all ${hosts * perHost}
      helpers started at once, each node pinging all ${hosts * perHost - 1} others at once as soon as its own helper
      reports health passing, each peer until pong (50 ms between tries), until every ordered pair answered. Plain:
      ${hosts * perHost} \`erl -name p<k>@<host address>\` started at once, one real epmd per host (namespace), each
      node finding the others with \`net_adm:world_list/1\` over the ${hosts} host addresses (again every 50 ms until it
      found all ${hosts * perHost - 1}; world_list pings each node it finds), then one ping of each. OTP's defaults for
      both (global's \`connect_all\` and \`prevent_overlapping_partitions\`). ${rounds} rounds, the two in a random
      order in each (fewer rounds than elsewhere: a mesh round takes about half a minute). ms, medians with 95%
      bootstrap intervals.`),
    formationTime: (o: { passing: string; members: string; after: string; n: number; cpus: number }): string =>
      para(`Where the mesh's time goes: ${o.passing} ms until the last of the ${o.n} helpers reported health passing (${o.n}
      helpers, proxies and BEAMs booting at once on ${o.cpus} shared vCPUs), ${o.members} ms until the last helper had
      all ${o.n - 1} others routed (its log \`members of …; ${o.n - 1} upstreams\`), and ${o.after} ms from the last
      health passing to the last pong. The pings end when membership does: each helper applies the members its
      blocking query returns in batches, one at a time, and every batch registers the sidecar again and waits for the
      proxy's new listeners, while up to ${o.n - 1} other helpers on the same agents do the same. Meanwhile OTP 25's
      global, seeing node A connected to B but not yet to C (A's helper has not routed C), disconnects nodes "to prevent
      overlapping partitions" (its warning reports in the BEAMs' output), which the plain nodes, reachable by all at
      once, never meet.`),
    joinSlow: (n: number, of: number, min: string, max: string): string =>
      para(`In ${n} of ${of} joins the pong came ${min} to ${max} ms after the pinger's helper had added the new member
      (they widen the per-host intervals above). During those seconds the pinger's built-in proxy accepted each
      try and closed it: its prepared query for the new member answered \`failed to dial: error="no healthy instances
      found"\` (the lines below), although the helpers' own query of the group's passing instances already listed it.
      A likely reason, not yet proven: the prepared query (executed by the proxy with \`Connect\`) returns the member's
      sidecar-proxy instance, whose health is its alias check of the member's service, not the service's TTL check the
      member watch reads; until the catalog has that alias check passing too, the member is listed but not reachable.`),
    logs: para(`Helper and proxy log lines about failures in the whole section (\`notes\` in bench/samples/replicas.json):`),
    logsReading:
      para(`\`listener stopped with error … bind: address already in use\` is the built-in proxy: on each new upstream list
      it starts a listener for every upstream again, and those it already holds fail to bind while the old listeners
      keep serving (noise that grows with the members times the updates). \`members of … not applied: request to
      …/v1/agent/service/register… failed; trying again\` is a sidecar registration with the new upstreams that
      failed (the line gives no reason; the agent was serving 8 helpers' registrations at once during formation); the
      helper applied the members again after its backoff. A \`members of … not applied: the proxy cannot listen on …
      another process holds that port\` is two helpers on one namespace's loopback picking the same free port at once
      (8 replicas share a host here); the helper applies them again with another port.`),
  },
  live: {
    method: (runs: number): string =>
      para(`Three nodes run under \`meshx-node run --kv\` (Consul 1.8.7 dev agent, built-in proxies, \`-connect_all false\`)
      with edges a–c and b–c; the changed manifests and intentions adding a–b are written to KV as a deploy writes
      them, and node a pings b every 10 ms from that moment. ${runs} runs, a fresh mesh each. ms from the KV write,
      medians with 95% bootstrap intervals.`),
    rest:
      para(`Where the rest goes: once the helper applied the version, the BEAM's next ping resolves the new peer's host at
      once: its inetrc (\`{lookup, [file, dns, native]}\`) has inet_db ask the helper's loopback DNS responder (TCP,
      TTL 0, NXDOMAIN not cached) after the hosts file misses, and the responder's host map switched with the EPMD
      routes. The hosts file alone would have added inet_db's 5 to 6 s wait before it looks at the file again (OTP
      25). The rest is the EPMD lookup, the connection through both sidecars and the distribution handshake.`),
  },
  footprint: {
    method: (o: { settleS: number; idleWindows: number; wakeS: number; ttl: string; windows: number; loaders: number; lookups: string }): string =>
      para(`One node (billing of the two-nodes example) under \`meshx-node run\` with Consul's built-in proxy and an \`erl\`
      BEAM, ${o.settleS} s after it turned healthy. Idle: ${o.idleWindows} windows of ${o.wakeS} s, the helper's wake
      interval at the default TTL (${o.ttl}: the helper sends nothing between the returns of its blocking query on the
      agent, which refreshes the TTL at a third of it; the agent's TCP check on the BEAM's distribution port every 10
      s wakes the BEAM, not the helper). EPMD load: ${o.windows} windows, each ${o.loaders} processes sending
      ${o.lookups} PORT_PLEASE2 lookups of the peer \`orders\` to the helper (25 in flight each, a new connection per
      lookup). RSS (MB) from /proc/<pid>/status at the end of each window; CPU (% of one core) from the on-CPU time of
      all threads (/proc/<pid>/task/*/schedstat, ns resolution). The empty node is \`node -e 'setInterval(…)'\` that
      never fires, the floor of any Node.js helper; the timer node is the same with an empty callback every ${o.wakeS}
      s, as often as the idle helper wakes: what waking up that often costs on this machine before any work is done.
      Anonymous memory (RssAnon) is the process's own; the rest of RSS is mostly the node (or consul, erts) binary's
      pages, shared by every such process on the host. Medians with 95% bootstrap intervals, except idle CPU: the mean
      over the windows (a wake falls in some windows only), with its 95% bootstrap interval.`),
  },
  datapath: {
    method: (o: { rttN: string; bulkN: number; pipeN: string; rounds: number; meshTls: string; distTls: string }): string =>
      para(`Workloads from node A to an echo process on node B (bench/erl/dist_bench.erl): sequential round trips of a small
      message (${o.rttN} per sample), ${o.bulkN} messages of 1 MiB each acknowledged, ${o.pipeN} 64-byte messages
      echoed with 64 outstanding. ${o.rounds} rounds; in each, the three paths in a random order (all three pairs run
      for the whole section). inet_tls_dist: mutual TLS with verify_peer, ECDSA P-256 certificates made by the bench,
      pinned to TLS 1.3 and to the cipher the mesh negotiated. Mesh: both nodes under \`meshx-node run\` with Consul's
      built-in proxies (mTLS between them; Consul's Connect CA, EC P-256 by default). TLS on the wire (ServerHello):
      mesh ${o.meshTls}; inet_tls_dist ${o.distTls}.`),
    cpu:
      para(`CPU: on-CPU time of every process on the path, summed over both BEAMs and, for the mesh, both proxies (the
      helpers are not on the data path), per MiB of the 1 MiB workload and per echoed 64-byte message of the pipelined
      one.`),
    limits:
      para(`What limits the mesh here: meshx-node's own code is not on the data path (the helper answers one EPMD lookup per
      connection, then the BEAM talks to its sidecar). Every message crosses two extra userspace hops: Consul's
      built-in proxy (Go) on each side, with TLS between them, all sharing the 2 vCPUs with both BEAMs. Bulk transfers
      gain from the proxies' TLS being far cheaper than inet_tls_dist's on OTP 25; small messages pay each hop's
      read/write and wake-up cost, which is why round trip and pipelined small messages trail inet_tls_dist, which
      encrypts inside the BEAM with no extra hop. Envoy, the production proxy, could not be measured here (not
      packaged by Debian).`),
  },
  epmd: {
    method: (transport: string, rounds: number, helperCpu: string): string =>
      para(`The EPMD server inside a real \`meshx-node run\` helper (billing of the two-nodes example, its BEAM and proxy
      running; EPMD served over ${transport}), asked for the peer \`orders\` on the peer's loopback address (answered
      from the route to the sidecar upstream), vs the real epmd asked for a registered \`orders\`. Each lookup is a
      new TCP connection, as a BEAM makes it. The load comes from separate Node processes (bench/epmd-load.js);
      lookups/s counts all of them over the slowest one's time, latencies (ms) are pooled. ${rounds} rounds per load,
      the two servers in a random order in each. Ratios are helper / epmd with 95% bootstrap intervals; CPU is the
      server process's on-CPU time per lookup (µs; the helper's is ${helperCpu} µs under the larger load).`),
    reading:
      para(`A BEAM asks once per new distribution connection, not per message: thousands of lookups per second is far above
      any node's need, and the p99 is what a booting cluster feels. Where the helper's time goes: with 4 load
      processes on this machine's CPUs the clients set the pace, and each µs the server spends per lookup is taken
      from them. The helper serves EPMD over libuv TCP handles without net.Socket
      (lib/runtime/epmd/handle-transport.ts): net.Socket and its stream state had cost ~26 µs of CPU per lookup (35 µs
      in the helper); its system time per lookup is now at or below epmd's, and what remains above epmd is Node's own
      per-connection work in user space (V8 calls into JavaScript for accept and read, the TCP handle object, two
      epoll_ctl calls where epmd's select needs none, a turn of the event loop after each call into JavaScript).
      Counted as user-space instructions per lookup with one client (callgrind): ~23,700, of which the handles'
      own share is ~19,200 and the EPMD code's (decode, routing, per-connection state) ~4,500; one shared read
      buffer, reused write requests and no string built per lookup took it from ~28,900. epmd: ~1.5 µs of user time.`),
  },
};

function header(records: SectionRecord[]): string[] {
  const runs = new Map<string, { env: RunEnv; names: string[] }>();
  for (const r of records) {
    const key = `${r.env.date}|${r.env.commit}`;
    if (!runs.has(key)) runs.set(key, { env: r.env, names: [] });
    runs.get(key)!.names.push(r.name);
  }
  const facts = records.flatMap((r) => Object.entries(r.facts ?? {}).map(([k, v]) => `- ${k}: ${v}`));
  return [
    prose.samples,
    '',
    table(
      ['run (UTC)', 'commit', 'sections', 'machine', 'Node', 'Erlang', 'Consul', 'Terraform'],
      [...runs.values()].map(({ env, names }) => [
        env.date,
        env.commit,
        names.join(', '),
        env.machine,
        env.node,
        env.erlang,
        env.consul,
        env.terraform ?? '',
      ]),
    ),
    '',
    ...(facts.length ? [prose.facts, '', ...facts, ''] : []),
    prose.noise,
  ];
}

export function renderResults(records: SectionRecord[]): string {
  const goals = records.flatMap((r) => r.goals);
  return [
    '# Benchmarks',
    '',
    ...header(records),
    '',
    '## Goals',
    '',
    table(['goal', 'measured [95% CI]', 'met'], goals.map((g) => [g.goal, g.value, VERDICT[g.verdict]])),
    '',
    ...records.flatMap((r) => [`## ${r.title}`, '', r.markdown, '']),
  ].join('\n');
}

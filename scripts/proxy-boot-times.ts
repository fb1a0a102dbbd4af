// Measures how long the built-in proxy takes from its start to each of its listeners bound (read
// from the kernel's socket table, held by its pid, as readiness reads them): the figure behind
// the floor of a readiness attempt (lib/runtime/proxy/readiness.ts, readyAttempts) and its row in
// docs/reliability.md. A Consul dev agent, one service with a sidecar and one upstream, the proxy
// started and stopped `runs` times; a proxy stuck at boot is counted (its output printed), not
// waited for. Usage: npx ts-node --transpile-only --project tsconfig.dev.json
// scripts/proxy-boot-times.ts [consul binary=consul] [runs=11]
import { ProxyKind } from '../lib/manifest/types';
import { spawnTied, stopChild } from '../lib/runtime/child';
import { probeFreePort } from '../lib/runtime/ports';
import { proxyCommand } from '../lib/runtime/proxy/command';
import { boundListeners } from '../lib/runtime/proxy/listeners';
import { DevAgent } from '../support/consul-dev-agent';
import { poll } from '../support/wait';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** A proxy not ready this long after its start is counted as stuck (30x the slowest normal boot seen). */
const HANG_MS = 15000;

/**
 * One start of the proxy: ms until its upstream listener, then its public listener, is bound;
 * undefined for one not bound within HANG_MS (the proxy stuck at boot).
 */
async function oneBoot(agent: DevAgent, consul: string, id: string): Promise<Array<number | undefined>> {
  const up = await probeFreePort('127.0.0.2');
  const pub = await probeFreePort('0.0.0.0');
  const upstreams = [{ DestinationName: 'peer', LocalBindAddress: '127.0.0.2', LocalBindPort: up }];
  const def = { ID: id, Name: id, Port: 9100, Address: '127.0.0.1', Connect: { SidecarService: { Port: pub, Proxy: { Upstreams: upstreams } } } };
  const r = await agent.api.request('PUT', '/v1/agent/service/register', def);
  if (r.status !== 200) throw new Error(`register ${id}: ${r.status} ${r.text}`);
  const t0 = Date.now();
  // The helper's own command line for the proxy.
  const argv = proxyCommand({ kind: ProxyKind.BUILTIN, consulBin: consul, proxyId: `${id}-sidecar-proxy`, serviceId: id, httpAddr: agent.httpAddr });
  const proxy = spawnTied(argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [proxy.stdout!, proxy.stderr!]) stream.on('data', (d: Buffer) => (output += d.toString()));
  const at: Array<number | undefined> = [undefined, undefined];
  try {
    const bound = () => {
      boundListeners([{ address: '127.0.0.2', port: up }, { address: '0.0.0.0', port: pub }], proxy.pid).forEach((b, i) => {
        if (b && at[i] === undefined) at[i] = Date.now() - t0;
      });
      return at.every((t) => t !== undefined);
    };
    await poll(bound, (all) => all, { timeoutMs: HANG_MS, intervalMs: 5 });
  } finally {
    await stopChild(proxy, 2000);
    await agent.api.request('PUT', `/v1/agent/service/deregister/${id}`);
  }
  if (at.some((t) => t === undefined)) console.log(`${id}: stuck; the proxy's output:\n${output}`);
  return at;
}

async function main(): Promise<void> {
  const consul = process.argv[2] ?? 'consul';
  const runs = Number(process.argv[3] ?? 11);
  const agent = await DevAgent.start({ consulBin: consul });
  const samples: Array<Array<number | undefined>> = [];
  try {
    for (let i = 0; i < runs; i++) {
      const [up, pub] = await oneBoot(agent, consul, `boot-${i}`);
      samples.push([up, pub]);
      const ms = (t: number | undefined) => (t === undefined ? `not bound within ${HANG_MS} ms` : `${t} ms`);
      console.log(`boot ${i}: upstream ${ms(up)}, public ${ms(pub)}`);
    }
  } finally {
    await agent.stop();
  }
  const ready = samples.filter((s) => s.every((t) => t !== undefined)).map((s) => s[1]!);
  console.log(
    `${consul}: all listeners bound in ${ready.length} of ${runs} boots, median ${median(ready)} ms [${Math.min(...ready)}-${Math.max(...ready)}]; ` +
      `stuck ${runs - ready.length}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

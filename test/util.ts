import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { Testing, TerraformStack } from 'cdktf';
import { ConsulProvider } from '@cdktf/provider-consul/lib/provider';
import { resourcesOfType } from '../lib/synth/reader';
import { poll } from '../support/wait';

/** A fresh stack with a default Consul provider. */
export function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), 'test');
  new ConsulProvider(stack, 'consul', {});
  return stack;
}

/** Synthesizes a stack and parses the JSON. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of one type, as a list of their bodies. */
export function resources(json: any, type: string): any[] {
  return resourcesOfType(json, type).map((r) => r.body);
}

/** The manifests a synthesized stack writes to KV, keyed by path. */
export function kvManifests(json: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const r of resources(json, 'consul_keys')) {
    for (const k of r.key) out[k.path] = JSON.parse(k.value);
  }
  return out;
}

/** A stand-in agent for unit tests: records requests, answers from a table (optionally with headers). */
export function fakeAgent(
  answer: (req: http.IncomingMessage, body: string) => [number, string] | [number, string, Record<string, string>],
): Promise<{ url: string; seen: Array<{ method: string; url: string; token?: string; body: string }>; close: () => void }> {
  const seen: Array<{ method: string; url: string; token?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, token: req.headers['x-consul-token'] as string | undefined, body });
      const [status, text, headers] = answer(req, body);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () =>
      r({ url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, seen, close: () => server.close() }),
    ),
  );
}

/**
 * A process that stands for another running helper: its command line names meshx-node, as the
 * helper's does (node …/bin/meshx-node run …). Plain spawn, not spawnTied: what is tested is the
 * liveness check, not the parent-death signal. Resolves once /proc shows its command line (bounded).
 */
export async function standInHelper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 30000)', 'meshx-node', 'run'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const shown = () => {
    try {
      return fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes('meshx-node');
    } catch {
      return false;
    }
  };
  await poll(shown, (s) => s, { timeoutMs: 5000, intervalMs: 20 });
  return child;
}

/** The seeded PRNG of support/random.ts, so a fuzz failure can be replayed from its seed. */
export { seededRandom as rng } from '../support/random';

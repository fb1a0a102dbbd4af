// What the release tests share (test/integration/release.test.ts, rebar3-release.test.ts): a dev
// agent with the two-nodes example deployed (orders and billing, legacy intentions, no ACLs), the
// environment `meshx-node env` gives a companion BEAM, and the processes a release dir still runs.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IntentionsMode } from '../lib';
import { TwoNodesStack } from '../examples/two-nodes/stack';
import { DevAgent } from './consul-dev-agent';
import { BIN, isAlive } from './mesh-node';
import { synthToDir } from './synth';
import { deploySynth } from './terraform';

export const ORDERS = 'orders@orders-1.shop.test';
export const BILLING = 'billing@billing-1.shop.test';

export interface TwoNodesMesh {
  readonly agent: DevAgent;
  /** The cdktf output dir the nodes boot `--from`. */
  readonly outdir: string;
}

/** A dev agent with the two-nodes example deployed; the agent is stopped if the deploy fails. */
export async function deployTwoNodes(): Promise<TwoNodesMesh> {
  const agent = await DevAgent.start();
  try {
    const synth = synthToDir((a) => new TwoNodesStack(a, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    await deploySynth(synth.outdir, 'two-nodes', agent);
    return { agent, outdir: synth.outdir };
  } catch (e) {
    await agent.stop();
    throw e;
  }
}

/** What `meshx-node env --state-dir <dir>` prints, as variables. */
export function companionEnv(stateDir: string): Record<string, string> {
  return JSON.parse(execFileSync(process.execPath, [BIN, 'env', '--state-dir', stateDir, '--format', 'json'], { encoding: 'utf8' }));
}

/** Pids of the processes whose executable or command line lies under `dir` (a release's BEAM, erl_child_setup, epmd). */
export function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const read = (f: string): string => {
      try {
        return f === 'exe' ? fs.readlinkSync(path.join('/proc', e, f)) : fs.readFileSync(path.join('/proc', e, f), 'utf8');
      } catch {
        return ''; // gone meanwhile, or not ours to read
      }
    };
    if (read('exe').startsWith(dir + '/') || read('cmdline').split('\0').some((a) => a.startsWith(dir + '/'))) out.push(Number(e));
  }
  return out.filter(isAlive);
}

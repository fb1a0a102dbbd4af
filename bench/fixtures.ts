// The running mesh several sections measure: a Consul 1.8.7 dev agent, the two-nodes example
// deployed through terraform (LEGACY intentions, no ACLs), and its nodes under `meshx-node run`.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TwoNodesStack } from '../examples/two-nodes/stack';
import { IntentionsMode } from '../lib';
import { DevAgent, waitDiscoverable } from '../support/consul-dev-agent';
import { MeshNode } from '../support/mesh-node';
import { synthToDir } from '../support/synth';
import { deploySynth } from '../support/terraform';
import { beamPid } from './lib';

export const ORDERS = 'orders@orders-1.shop.test';
export const BILLING = 'billing@billing-1.shop.test';

export interface NodeState {
  readonly helperPid: number;
  readonly epmdPort: number;
  readonly sidecarPort: number;
  readonly upstreams: Array<{ node: string; address: string; port: number }>;
}

export interface RunningNode {
  readonly node: MeshNode;
  readonly state: NodeState;
  /** OS pids of the helper, its proxy and its BEAM. */
  readonly pids: { helper: number; proxy: number; beam: number };
}

export interface MeshFixture {
  readonly agent: DevAgent;
  readonly outdir: string;
  readonly nodes: RunningNode[];
  stop(): Promise<void>;
}

/** Starts the agent, deploys the example and boots the given nodes (all by default). */
export async function startMesh(
  cookie: string,
  names = [ORDERS, BILLING],
  beamArgs: string[] = [],
  env?: Record<string, string>,
): Promise<MeshFixture> {
  const agent = await DevAgent.start();
  const nodes: RunningNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.node.stop('SIGTERM')));
    await agent.stop();
  };
  try {
    const { outdir } = synthToDir((app) => new TwoNodesStack(app, 'two-nodes', { intentionsMode: IntentionsMode.LEGACY, acl: false }));
    await deploySynth(outdir, 'two-nodes', agent);
    const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-bench-state-'));
    await Promise.all(
      names.map(async (name, i) => {
        const stateDir = path.join(stateRoot, String(i));
        const node = await MeshNode.start({ from: outdir, node: name, consulAddr: agent.httpAddr, cookie, stateDir, beamArgs, env });
        const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as NodeState;
        nodes.push({ node, state, pids: { helper: state.helperPid, proxy: node.pidOf('proxy')!, beam: beamPid(node.pidOf('beam')!) } });
      }),
    );
    await waitDiscoverable(
      agent.api,
      names.map((n) => `shop-${n.split('@')[0]}`),
    );
    return { agent, outdir, nodes: names.map((n) => nodes.find((x) => x.node.name === n)!), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** An empty Node.js process (the floor of the helper's footprint), killed by the returned stop. */
export function emptyNode(everyMs = 1 << 30): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ['-e', `setInterval(() => {}, ${everyMs})`], { stdio: 'ignore' });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

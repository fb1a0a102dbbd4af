import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { NODE_MANIFEST_SCHEMA } from '../manifest/schema';
import { NodeManifest, ProxyKind } from '../manifest/types';
import { diffGraphs, graphFrom, MeshGraph } from '../review/graph';
import { diffFromPlanFile } from '../review/plan';
import { GraphFormat, renderDiff, renderGraph } from '../review/render';
import { companionEnvironment } from './beam-env';
import { agentBaseUrl, ConsulAgent } from './consul-agent';
import { InputError, RuntimeFailure } from './errors';
import { createLogger } from './log';
import { checkSourceOptions, manifestFromFile, manifestFromKv, manifestsFromSynth, selectManifest } from './manifest-source';
import { preflightCommand, preflightProxy, runNode } from './run';
import { defaultStateDir, shellExports, StateDir } from './state-dir';

interface RunFlags {
  manifest?: string;
  from?: string;
  node?: string;
  kv?: string;
  consulAddr?: string;
  tokenFile?: string;
  consulBin: string;
  proxy?: ProxyKind;
  envoyBin?: string;
  grpcAddr?: string;
  stateDir?: string;
  consulTimeout: number;
  readyTimeout: number;
  stopTimeout: number;
}

const seconds = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InputError(`${name} must be a positive number of seconds, got '${v}'`);
  return n;
};

/** Token for our own requests: --token-file, CONSUL_HTTP_TOKEN_FILE, then CONSUL_HTTP_TOKEN. */
function readToken(flags: { tokenFile?: string }, env: NodeJS.ProcessEnv): { token?: string; tokenFile?: string } {
  const file = flags.tokenFile ?? env.CONSUL_HTTP_TOKEN_FILE;
  if (file) {
    try {
      return { token: fs.readFileSync(file, 'utf8').trim(), tokenFile: file };
    } catch {
      throw new InputError(`--token-file: cannot read ${file}`);
    }
  }
  return { token: env.CONSUL_HTTP_TOKEN || undefined };
}

async function runCommand(flags: RunFlags, command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  checkSourceOptions(flags);
  const address = flags.consulAddr ?? env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500';
  const ssl = env.CONSUL_HTTP_SSL === 'true';
  try {
    agentBaseUrl(address, ssl);
  } catch (e) {
    throw new InputError(`--consul-addr: ${(e as Error).message}`);
  }
  preflightCommand(command, env);
  let manifest: NodeManifest | undefined;
  if (flags.manifest) manifest = manifestFromFile(flags.manifest);
  if (flags.from) manifest = selectManifest(manifestsFromSynth(flags.from), flags.node!, flags.from);
  if (manifest) preflightProxy({ consulBin: flags.consulBin, proxyKind: flags.proxy ?? manifest.sidecar.proxy, envoyBin: flags.envoyBin, env });
  const { token, tokenFile } = readToken(flags, env);
  const agent = new ConsulAgent({ address, ssl, token });

  const log = createLogger(manifest?.node ?? `kv:${flags.kv}`, 'helper');
  try {
    const self = await agent.waitReachable(flags.consulTimeout * 1000, log);
    if (self.version) log(`Consul agent ${self.nodeName} (${self.version}) at ${agent.baseUrl}`);
  } catch (e) {
    throw new RuntimeFailure((e as Error).message);
  }
  if (flags.kv) {
    manifest = await manifestFromKv(agent, flags.kv);
    preflightProxy({ consulBin: flags.consulBin, proxyKind: flags.proxy ?? manifest.sidecar.proxy, envoyBin: flags.envoyBin, env });
  }
  const m = manifest!;
  return runNode({
    manifest: m,
    command,
    agent,
    tokenFile,
    consulBin: flags.consulBin,
    proxyKind: flags.proxy ?? m.sidecar.proxy,
    stateDir: new StateDir(flags.stateDir ?? defaultStateDir(m.service.id)),
    readyTimeoutMs: flags.readyTimeout * 1000,
    stopTimeoutMs: flags.stopTimeout * 1000,
    grpcAddr: flags.grpcAddr,
    envoyBin: flags.envoyBin,
    env,
    log: createLogger(m.node, 'helper'),
    proxyOutput: createLogger(m.node, 'proxy'),
  });
}

/** Builds the CLI. `out` receives command output (stdout). */
export function buildProgram(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, result: { code: number }): Command {
  const program = new Command('meshx-node')
    .description('Put stock BEAM nodes on a Consul Connect service mesh')
    .version(require('../../package.json').version)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: out, writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .summary('register a node, start its sidecar and EPMD, then run the BEAM command')
    .description('Register the node with the local Consul agent, start and supervise its sidecar proxy, answer its EPMD lookups on loopback, and run the BEAM command given after --.')
    .usage('(--manifest FILE | --from CDKTF_OUT --node NAME | --kv KEY) [options] -- COMMAND...')
    .option('--manifest <file>', 'node manifest JSON file')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json to read the manifest from')
    .option('--node <name>', 'with --from: the Erlang node name (or service name) to boot')
    .option('--kv <key>', 'Consul KV key holding the manifest')
    .option('--consul-addr <url>', 'Consul agent HTTP address (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500)')
    .option('--token-file <file>', 'ACL token file (default: $CONSUL_HTTP_TOKEN_FILE, else $CONSUL_HTTP_TOKEN)')
    .option('--consul-bin <path>', 'consul binary', 'consul')
    .addOption(new Option('--proxy <kind>', 'sidecar proxy (default: the manifest\'s)').choices(['envoy', 'builtin']))
    .option('--envoy-bin <path>', 'Envoy binary (envoy proxy only)')
    .option('--grpc-addr <addr>', 'agent xDS gRPC address (envoy proxy only)')
    .option('--state-dir <dir>', 'where resolved ports, the inetrc and upstream env go (default: /run/meshx-node/<service>)')
    .option('--consul-timeout <seconds>', 'how long to retry reaching the agent', seconds('--consul-timeout'), 30)
    .option('--ready-timeout <seconds>', 'how long to wait for the proxy\'s listeners', seconds('--ready-timeout'), 60)
    .option('--stop-timeout <seconds>', 'grace period for the BEAM on stop, then SIGKILL', seconds('--stop-timeout'), 15)
    .argument('[command...]', 'the BEAM command (erl, iex, a release script), after --')
    .action(async (command: string[], flags: RunFlags) => {
      const dashdash = argv.indexOf('--');
      if (dashdash < 0) throw new InputError(command.length ? `put the BEAM command after --: meshx-node run ... -- ${command.join(' ')}` : 'missing -- COMMAND: meshx-node run ... -- erl -name app@host');
      result.code = await runCommand(flags, argv.slice(dashdash + 1), env);
    });

  program
    .command('manifest')
    .summary('print node manifests found in synthesized output')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json')
    .option('--node <name>', 'only this node (Erlang node name or service name)')
    .option('--schema', 'print the JSON Schema of manifest v1 instead')
    .action((flags: { from?: string; node?: string; schema?: boolean }) => {
      if (flags.schema) return out(JSON.stringify(NODE_MANIFEST_SCHEMA, null, 2) + '\n');
      if (!flags.from) throw new InputError('--from is required (or --schema)');
      const found = manifestsFromSynth(flags.from);
      const value = flags.node ? selectManifest(found, flags.node, flags.from) : found.map((f) => f.manifest);
      out(JSON.stringify(value, null, 2) + '\n');
    });

  program
    .command('env')
    .summary('print what a second BEAM on the host (remote console, release rpc) needs to use this node\'s EPMD')
    .requiredOption('--state-dir <dir>', 'the state dir of the running `meshx-node run`')
    .addOption(new Option('--format <format>', 'output format').choices(['sh', 'json']).default('sh'))
    .action((flags: { stateDir: string; format: 'sh' | 'json' }) => {
      let vars: Record<string, string>;
      try {
        const s = new StateDir(flags.stateDir).readState();
        vars = companionEnvironment({ epmdPort: s.epmdPort, inetrcPath: s.inetrc, node: s.node });
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      out(flags.format === 'json' ? JSON.stringify(vars, null, 2) + '\n' : shellExports(vars));
    });

  program
    .command('graph')
    .summary('show who may talk to whom, from synthesized stacks or a Terraform plan')
    .description('Read nodes, upstreams and intentions (both modes) from synthesized stacks and print the graph with its findings; with --diff the edges added and removed since an older synth; with --plan the edges a saved plan (terraform show -json) adds, removes and keeps against the deployed state.')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json')
    .option('--plan <file>', 'JSON of a saved plan: terraform plan -out=PLAN && terraform show -json PLAN > FILE')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot', 'json']).default('text'))
    .option('--diff <old>', 'with --from: an older cdktf output to compare with')
    .action((flags: { from?: string; plan?: string; format: GraphFormat; diff?: string }) => {
      if (flags.plan) {
        if (flags.from || flags.diff) throw new InputError('--plan reads the deployed and planned graphs from the plan: leave out --from and --diff');
        let d;
        try {
          d = diffFromPlanFile(flags.plan);
        } catch (e) {
          throw new InputError(`--plan: ${(e as Error).message}`);
        }
        return out(renderDiff(d, flags.format));
      }
      if (!flags.from) throw new InputError('--from or --plan is required');
      const from = flags.from;
      const read = (from: string, option: string): MeshGraph => {
        try {
          return graphFrom(from);
        } catch (e) {
          throw new InputError(`${option}: ${(e as Error).message}`);
        }
      };
      const now = read(from, '--from');
      if (!flags.diff) return out(renderGraph(now, flags.format));
      out(renderDiff(diffGraphs(read(flags.diff, '--diff'), now), flags.format));
    });

  return program;
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(argv, env, out, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    const code = (e as { exitCode?: number }).exitCode ?? 1;
    process.stderr.write(`meshx-node: ${(e as Error).message}\n`);
    return code;
  }
}

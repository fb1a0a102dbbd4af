import * as fs from 'node:fs';
import * as os from 'node:os';
import { Command, Option } from 'commander';
import { resolveReplica } from '../manifest/replicas';
import { AnyManifest, isGroupManifest, NodeManifest, ProxyKind } from '../manifest/types';
import { validateManifest } from '../manifest/validate';
import { agentTlsOptions, AgentTlsOptions } from '../runtime/consul/tls';
import { agentBaseUrl, ConsulAgent } from '../runtime/consul/agent';
import { InputError, RuntimeFailure } from '../runtime/errors';
import { createLogger, LogFormat, Logger } from '../runtime/log';
import { jsonLogLine } from '../runtime/log-json';
import { ListenAddress, parseListenAddress } from '../runtime/metrics/address';
import { prometheusMetrics } from '../runtime/metrics/load';
import { AclLogin, readBearerToken } from '../runtime/consul/login';
import { NodeRuntime } from '../runtime/node-runtime';
import { preflightCommand, preflightManifest, preflightProxy } from '../runtime/preflight';
import { defaultStateDir, StateDir } from '../runtime/state-dir';
import { replicaNodeName } from '../runtime/replica-name';
import { bootManifest, readMembers } from '../runtime/topology/members';
import { asInput, checkSourceOptions, manifestFromFile, manifestFromKv, manifestsFromSynth, selectManifest } from './manifest-source';
import { handleSignals } from './signals';

interface RunFlags {
  manifest?: string;
  from?: string;
  node?: string;
  kv?: string;
  nodeName?: string;
  consulAddr?: string;
  caFile?: string;
  caPath?: string;
  clientCert?: string;
  clientKey?: string;
  tlsServerName?: string;
  tokenFile?: string;
  loginMethod?: string;
  bearerTokenFile?: string;
  consulBin: string;
  proxy?: ProxyKind;
  envoyBin?: string;
  grpcAddr?: string;
  stateDir?: string;
  consulTimeout: number;
  readyTimeout: number;
  stopTimeout: number;
  drainTimeout: number;
  metricsAddr?: ListenAddress;
  logFormat: LogFormat;
}

const seconds = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InputError(`${name} must be a positive number of seconds, got '${v}'`);
  return n;
};

const secondsOrOff = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InputError(`${name} must be 0 (off) or a number of seconds, got '${v}'`);
  return n;
};

const listenAddress = (v: string) => {
  try {
    return parseListenAddress(v);
  } catch (e) {
    throw new InputError(`--metrics-addr: ${(e as Error).message}`);
  }
};

/** Token for our own requests: --token-file, CONSUL_HTTP_TOKEN_FILE, then CONSUL_HTTP_TOKEN. */
export function readToken(flags: { tokenFile?: string }, env: NodeJS.ProcessEnv): { token?: string; tokenFile?: string } {
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

const METHOD_RE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * --login-method and --bearer-token-file (or MESHX_LOGIN_METHOD, MESHX_BEARER_TOKEN_FILE): both
 * or neither, and never with a static token. The bearer file is checked now (exit 2 when bad).
 */
export function loginOptions(
  flags: { loginMethod?: string; bearerTokenFile?: string; tokenFile?: string },
  env: NodeJS.ProcessEnv,
): { method: string; bearerTokenFile: string } | undefined {
  const method = flags.loginMethod ?? (env.MESHX_LOGIN_METHOD || undefined);
  const bearerTokenFile = flags.bearerTokenFile ?? (env.MESHX_BEARER_TOKEN_FILE || undefined);
  if (method === undefined && bearerTokenFile === undefined) return undefined;
  if (method === undefined) throw new InputError('--bearer-token-file needs --login-method (or $MESHX_LOGIN_METHOD): the auth method to log in to');
  if (bearerTokenFile === undefined) {
    throw new InputError('--login-method needs --bearer-token-file (or $MESHX_BEARER_TOKEN_FILE): the file holding the JWT');
  }
  if (!METHOD_RE.test(method)) {
    throw new InputError(`--login-method: '${method}' is not an auth method name (1 to 128 characters of A-Z, a-z, 0-9, '_', '-')`);
  }
  const statics = [
    flags.tokenFile && '--token-file',
    env.CONSUL_HTTP_TOKEN_FILE && '$CONSUL_HTTP_TOKEN_FILE',
    env.CONSUL_HTTP_TOKEN && '$CONSUL_HTTP_TOKEN',
  ].filter(Boolean);
  if (statics.length) {
    throw new InputError(`--login-method cannot be combined with ${statics.join(', ')}: the token comes from the login (unset the static token)`);
  }
  readBearerToken(bearerTokenFile);
  return { method, bearerTokenFile };
}

/** The manifest from --manifest or --from (known before reaching the agent), else undefined (--kv). */
function preflight(m: NodeManifest, flags: RunFlags, command: string[], env: NodeJS.ProcessEnv): void {
  preflightManifest(m, command, env);
  preflightProxy({ consulBin: flags.consulBin, proxyKind: flags.proxy ?? m.sidecar.proxy, envoyBin: flags.envoyBin, env });
}

/**
 * The node's manifest: a node's as read, or this replica's of a group's (its node name from
 * --node-name, the command or the host name). --node-name with a node's manifest must be its name.
 */
export function nodeManifestOf(m: AnyManifest, flags: { nodeName?: string }, command: string[], env: NodeJS.ProcessEnv): NodeManifest {
  if (!isGroupManifest(m)) {
    if (flags.nodeName !== undefined && flags.nodeName !== m.node) {
      throw new InputError(`--node-name: '${flags.nodeName}' is not the manifest's node '${m.node}' (--node-name is for a group's replicas)`);
    }
    return m;
  }
  const node = replicaNodeName(m, { nodeName: flags.nodeName, command, env, hostname: os.hostname() });
  return asInput(() => validateManifest(resolveReplica(m, node)));
}

function localManifest(flags: RunFlags, command: string[], env: NodeJS.ProcessEnv): NodeManifest | undefined {
  let manifest: NodeManifest | undefined;
  if (flags.manifest) manifest = nodeManifestOf(manifestFromFile(flags.manifest), flags, command, env);
  if (flags.from) manifest = nodeManifestOf(selectManifest(manifestsFromSynth(flags.from), flags.node!, flags.from), flags, command, env);
  if (manifest) preflight(manifest, flags, command, env);
  return manifest;
}

/** The agent client: address, token, TLS files read now (a bad file is an input error, exit 2). */
export function agentClient(
  flags: { consulAddr?: string; tokenFile?: string; loginMethod?: string; bearerTokenFile?: string },
  env: NodeJS.ProcessEnv,
  tls: AgentTlsOptions,
  log?: (message: string) => void,
): { agent: ConsulAgent; tokenFile?: string } {
  const address = flags.consulAddr ?? env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500';
  const ssl = env.CONSUL_HTTP_SSL === 'true';
  const { token, tokenFile } = loginOptions(flags, env) ? { token: undefined, tokenFile: undefined } : readToken(flags, env);
  return { agent: new ConsulAgent({ address, ssl, token, tls, log }), tokenFile };
}

async function reachAgent(
  client: { agent: ConsulAgent; tokenFile?: string },
  flags: RunFlags,
  label: string,
  logger: (node: string, part: string) => Logger,
): Promise<{ agent: ConsulAgent; tokenFile?: string }> {
  const { agent, tokenFile } = client;
  const log = logger(label, 'helper');
  try {
    const self = await agent.waitReachable(flags.consulTimeout * 1000, log);
    if (self.version) log(`Consul agent ${self.nodeName} (${self.version}) at ${agent.baseUrl}`);
  } catch (e) {
    throw new RuntimeFailure((e as Error).message);
  }
  return { agent, tokenFile };
}

/** `meshx-node run`: validates everything it can, then boots the node; resolves with the exit code. */
export async function runCommand(flags: RunFlags, command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  checkSourceOptions(flags);
  try {
    agentBaseUrl(flags.consulAddr ?? env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500', env.CONSUL_HTTP_SSL === 'true');
  } catch (e) {
    throw new InputError(`--consul-addr: ${(e as Error).message}`);
  }
  const tls = agentTlsOptions(flags, env);
  preflightCommand(command, env);
  const loginWith = loginOptions(flags, env);
  const logger = (node: string, part: string) => createLogger(node, part, undefined, flags.logFormat);
  let manifest = localManifest(flags, command, env);
  const label = manifest?.node ?? `kv:${flags.kv}`;
  const client = agentClient(flags, env, tls, logger(label, 'helper'));
  const { agent, tokenFile } = await reachAgent(client, flags, label, logger);
  const login = loginWith && new AclLogin({ agent, ...loginWith, node: manifest?.node ?? flags.kv!, log: logger(label, 'helper') });
  try {
    return await boot();
  } finally {
    // Undone by the boot's login step; this covers a failure before it (manifest from KV, state dir).
    await login?.logout();
  }

  async function boot(): Promise<number> {
    if (flags.kv) {
      // The manifest key is readable with the node's own token only: log in first.
      await login?.login();
      manifest = nodeManifestOf(await manifestFromKv(agent, flags.kv), flags, command, env);
      preflight(manifest, flags, command, env);
    }
    const m = manifest!;
    // The members are read with the node's token: a login first (Consul's ACLs filter, not refuse).
    if (m.peerGroups?.length && !flags.kv) await login?.login();
    const base = m.peerGroups?.length ? { manifest: m, members: await readMembers(agent, m, logger(m.node, 'helper')) } : undefined;
    const node = new NodeRuntime({
      manifest: base ? bootManifest(m, base.members) : m,
      base,
      manifestSource: flags.kv ? `kv:${flags.kv}` : flags.manifest ?? `${flags.from}#${flags.node}`,
      kvKey: flags.kv,
      command,
      agent,
      tokenFile,
      login,
      consulBin: flags.consulBin,
      proxyKind: flags.proxy ?? m.sidecar.proxy,
      stateDir: new StateDir(flags.stateDir ?? defaultStateDir(m.service.id)),
      readyTimeoutMs: flags.readyTimeout * 1000,
      stopTimeoutMs: flags.stopTimeout * 1000,
      drainTimeoutMs: flags.drainTimeout * 1000,
      grpcAddr: flags.grpcAddr,
      envoyBin: flags.envoyBin,
      env,
      log: logger(m.node, 'helper'),
      proxyOutput: logger(m.node, 'proxy'),
      metrics: flags.metricsAddr && prometheusMetrics(flags.metricsAddr),
    });
    const detach = handleSignals(node, { interactive: process.stdin.isTTY });
    try {
      return await node.run();
    } finally {
      detach();
    }
  }
}

/** With --log-format json, the failure that ends the run is a json line too (else main writes `meshx-node: …`). */
function failedAsJson(e: unknown, flags: RunFlags): number {
  const code = (e as { exitCode?: number }).exitCode ?? 1;
  const node = flags.nodeName ?? flags.node ?? (flags.kv ? `kv:${flags.kv}` : flags.manifest ?? flags.from ?? 'meshx-node');
  process.stderr.write(jsonLogLine(new Date(), node, 'helper', (e as Error).message, { exit: code }, 'error'));
  return code;
}

export function addRunCommand(program: Command, argv: string[], env: NodeJS.ProcessEnv, result: { code: number }): void {
  program
    .command('run')
    .summary('register a node, start its sidecar and EPMD, then run the BEAM command')
    .description('Register the node with the local Consul agent, start and supervise its sidecar proxy, '
      + 'answer its EPMD lookups on loopback, and run the BEAM command given after --.')
    .usage('(--manifest FILE | --from CDKTF_OUT --node NAME | --kv KEY [--node-name ALIVE@HOST]) [options] -- COMMAND...')
    .option('--manifest <file>', 'node manifest JSON file')
    .option('--from <path>', 'cdktf output dir, stack dir or cdk.tf.json to read the manifest from')
    .option('--node <name>', 'with --from: the Erlang node name (or service name) to boot')
    .option('--kv <key>', 'Consul KV key holding the manifest (a node\'s, or a group\'s: then this run is one replica)')
    .option('--node-name <alive@host>', 'with a group\'s manifest: this replica\'s node name '
      + '(default: the command\'s -name/-sname, else <alive>@<this host\'s name>, short with -sname)')
    .option('--consul-addr <url>', 'Consul agent HTTP address (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500)')
    .option('--ca-file <file>', 'CA certificate (PEM) to verify an https agent (default: $CONSUL_CACERT)')
    .option('--ca-path <dir>', 'directory of CA certificates (PEM) to verify an https agent (default: $CONSUL_CAPATH)')
    .option('--client-cert <file>', 'client certificate (PEM) for an agent with verify_incoming (default: $CONSUL_CLIENT_CERT)')
    .option('--client-key <file>', 'key of --client-cert (default: $CONSUL_CLIENT_KEY)')
    .option('--tls-server-name <name>', 'server name to verify the agent\'s certificate against '
      + '(default: $CONSUL_TLS_SERVER_NAME; $CONSUL_HTTP_SSL_VERIFY=false skips verification)')
    .option('--token-file <file>', 'ACL token file (default: $CONSUL_HTTP_TOKEN_FILE, else $CONSUL_HTTP_TOKEN)')
    .option('--login-method <name>', 'get the ACL token by logging in to this auth method (default: $MESHX_LOGIN_METHOD); '
      + 'excludes --token-file and CONSUL_HTTP_TOKEN*')
    .option('--bearer-token-file <file>', 'with --login-method: file holding the JWT, read again at every login (default: $MESHX_BEARER_TOKEN_FILE)')
    .option('--consul-bin <path>', 'consul binary', 'consul')
    .addOption(new Option('--proxy <kind>', 'sidecar proxy (default: the manifest\'s)').choices(['envoy', 'builtin']))
    .option('--envoy-bin <path>', 'Envoy binary (envoy proxy only)')
    .option('--grpc-addr <addr>', 'agent xDS gRPC address (envoy proxy only)')
    .option('--state-dir <dir>', 'where resolved ports, the inetrc and upstream env go '
      + '(default: /run/meshx-node/<service> for root, else $XDG_RUNTIME_DIR or ~/.local/state)')
    .option('--consul-timeout <seconds>', 'how long to retry reaching the agent', seconds('--consul-timeout'), 30)
    .option(
      '--ready-timeout <seconds>',
      'how long to wait for the proxy\'s listeners, in up to 3 attempts of at least 5 s (the proxy restarted after each but the last); '
        + 'and for the node to register under its own name after the command starts (else it is stopped, exit 1)',
      seconds('--ready-timeout'),
      60,
    )
    .option('--stop-timeout <seconds>', 'grace period for the BEAM on stop, then SIGKILL', seconds('--stop-timeout'), 15)
    .option('--drain-timeout <seconds>', 'on stop, first take the node out of the catalog (check critical) and wait this long '
      + '(less if the BEAM exits) before stopping the BEAM; a second signal stops at once (default: 0, no drain)', secondsOrOff('--drain-timeout'), 0)
    .option('--metrics-addr <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (default: off); '
      + 'HOST defaults to 127.0.0.1, and one that is not loopback exposes them beyond this host', listenAddress)
    .addOption(new Option('--log-format <format>', 'log lines as text ([node][part] message) or json (one object per line)')
      .choices(['text', 'json']).default('text'))
    .argument('[command...]', 'the BEAM command (erl, iex, a release script), after --')
    .action(async (command: string[], flags: RunFlags) => {
      const dashdash = argv.indexOf('--');
      if (dashdash < 0 && command.length) throw new InputError(`put the BEAM command after --: meshx-node run ... -- ${command.join(' ')}`);
      if (dashdash < 0) throw new InputError('missing -- COMMAND: meshx-node run ... -- erl -name app@host');
      try {
        result.code = await runCommand(flags, argv.slice(dashdash + 1), env);
      } catch (e) {
        if (flags.logFormat !== 'json') throw e;
        result.code = failedAsJson(e, flags);
      }
    });
}

import * as os from 'node:os';
import { NodeManifest, ProxyKind } from '../manifest/types';
import { findDistOverride, findEpmdBypass } from './beam-env';
import { which } from './child';
import { InputError } from './errors';
import { checkCommandName, commandNodeName } from './replica-name';

/** Checks on the BEAM command, before anything is started or registered; bad input is exit 2. */
export function preflightCommand(command: string[], env: NodeJS.ProcessEnv): void {
  if (command.length === 0) throw new InputError('no command to run: put the BEAM command after --, e.g. -- erl -name app@host');
  if (!which(command[0], env.PATH)) throw new InputError(`command not found: ${command[0]}`);
  const bypass = findEpmdBypass(command, env);
  if (bypass) throw new InputError(bypass);
}

/** Checks that the proxy can be started, once the proxy kind is known. */
export function preflightProxy(o: { consulBin: string; proxyKind: ProxyKind; envoyBin?: string; env: NodeJS.ProcessEnv }): void {
  if (!which(o.consulBin, o.env.PATH)) throw new InputError(`consul binary not found: ${o.consulBin} (set --consul-bin)`);
  if (o.proxyKind === ProxyKind.ENVOY && !which(o.envoyBin ?? 'envoy', o.env.PATH)) {
    throw new InputError(`envoy binary not found: ${o.envoyBin ?? 'envoy'} (install Envoy, set --envoy-bin, or use --proxy builtin)`);
  }
}

/** Checks once the manifest is known: the command must not move distribution off the helper's port. */
export function preflightManifest(m: NodeManifest, command: string[], env: NodeJS.ProcessEnv): void {
  const override = findDistOverride(command, env, m.service.distPort);
  if (override) throw new InputError(override);
  checkCommandName(m.node, commandNodeName(command, env), os.hostname());
}

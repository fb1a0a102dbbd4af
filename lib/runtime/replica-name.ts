import { isNodeName, splitNodeName } from '../manifest/names';
import { GroupManifest } from '../manifest/types';
import { InputError } from './errors';

/** How the command names its node: long (-name) or short (-sname), and the name if it gives one. */
export interface CommandName {
  readonly mode: 'long' | 'short';
  /** `alive` or `alive@host` as given; undefined for a mix release told only the mode. */
  readonly value?: string;
  /** Where it was found, for messages. */
  readonly where: string;
}

const FLAG_RE = /(?:^|\s)--?(s?name)(?:\s+|=)(\S+)/;

/**
 * The name the command gives its node: `-name`/`--name`/`-sname`/`--sname` in the command or the
 * BEAM's flag variables, else a mix release's RELEASE_NODE / RELEASE_DISTRIBUTION. A release
 * script whose vm.args names the node is not read: give --node-name then.
 */
export function commandNodeName(command: string[], env: NodeJS.ProcessEnv): CommandName | undefined {
  for (let i = 0; i < command.length - 1; i++) {
    const flag = /^--?(s?name)$/.exec(command[i]);
    if (flag) return { mode: flag[1] === 'sname' ? 'short' : 'long', value: command[i + 1], where: `the command's ${command[i]}` };
  }
  for (const v of ['ERL_AFLAGS', 'ERL_FLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS']) {
    const m = FLAG_RE.exec(env[v] ?? '');
    if (m) return { mode: m[1] === 'sname' ? 'short' : 'long', value: m[2], where: `$${v}'s -${m[1]}` };
  }
  const dist = env.RELEASE_DISTRIBUTION;
  if (dist === 'name' || dist === 'sname') {
    return { mode: dist === 'sname' ? 'short' : 'long', value: env.RELEASE_NODE || undefined, where: '$RELEASE_NODE' };
  }
  return undefined;
}

/**
 * The node name of this replica of `group`: --node-name, else the one the command gives in full,
 * else `<alive>@<host>` with this host's name, whole for long names and its first label for
 * short ones (long when the command does not say). A name the command gives that differs is a
 * usage error, as is a short name with a dotted host.
 */
export function replicaNodeName(group: GroupManifest, o: { nodeName?: string; command: string[]; env: NodeJS.ProcessEnv; hostname: string }): string {
  const given = commandNodeName(o.command, o.env);
  const fullGiven = given?.value?.includes('@') ? given.value : undefined;
  let node = o.nodeName ?? fullGiven;
  const from = o.nodeName !== undefined ? '--node-name' : given?.where ?? 'the host name';
  if (node === undefined) {
    const host = given?.mode === 'short' ? o.hostname.split('.')[0] : o.hostname;
    node = `${group.group.alive}@${host}`;
    if (!isNodeName(node)) throw new InputError(`this host's name '${o.hostname}' makes no node name ('${node}'): give --node-name ALIVE@HOST`);
  }
  if (!isNodeName(node)) throw new InputError(`${from}: '${node}' is not a node name (alive@host)`);
  const { alive, host } = splitNodeName(node);
  if (alive !== group.group.alive) {
    throw new InputError(`${from}: '${node}' is not a replica of group '${group.service.name}' (its node names are ${group.group.alive}@HOST)`);
  }
  if (given?.mode === 'short' && host.includes('.')) {
    throw new InputError(`${given.where} asks for a short name, but '${node}' has a dotted host; give --node-name ${alive}@${host.split('.')[0]}`);
  }
  checkCommandName(node, given, o.hostname);
  return node;
}

/**
 * The command's own name for its node must be the node's: a full name equal to it, or (for
 * -sname) the alive part alone when the BEAM's own completion (this host's first label) gives it.
 * A long name's alive part alone is refused: the BEAM completes it with this host's name and the
 * inetrc's domain, not as the manifest says, and would register, pass, and be unreachable.
 */
export function checkCommandName(node: string, given: CommandName | undefined, hostname: string): void {
  if (given?.value === undefined) return;
  const { alive, host } = splitNodeName(node);
  const fix = `give the full name, e.g. -name "$MESHX_NODE_NAME" (${node})`;
  if (given.value.includes('@')) {
    if (given.value !== node) throw new InputError(`${given.where} names the node '${given.value}', but this node is '${node}'; ${fix}`);
    return;
  }
  if (given.value !== alive) throw new InputError(`${given.where} names the node '${given.value}', but this node is '${node}'; ${fix}`);
  if (given.mode === 'long' || host !== hostname.split('.')[0]) {
    throw new InputError(`${given.where} gives only '${alive}': the BEAM would complete the host itself, not as '${node}'; ${fix}`);
  }
}

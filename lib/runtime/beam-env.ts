import { splitNodeName } from '../manifest/names';
import { ManifestUpstream } from '../manifest/types';

/** Flags that make a BEAM skip EPMD lookups entirely, so the helper would be bypassed. */
const BYPASS = [/-erl_epmd_port\b/, /\berl_epmd_node_listen_port\b/, /-no_epmd\b/];

/** Returns a message when the command or environment would bypass the helper's EPMD. */
export function findEpmdBypass(command: string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const [where, text] of flagSources(command, env)) {
    const hit = BYPASS.find((re) => re.test(text));
    if (hit) return `${where} sets ${hit.source.replace(/\\b/g, '')}, which makes the BEAM skip EPMD lookups; remove it (meshx-node answers EPMD)`;
  }
  if (env.ERL_DIST_PORT) return 'ERL_DIST_PORT is set: relx turns it into -erl_epmd_port, which bypasses EPMD; unset it';
  return undefined;
}

/** Where the BEAM's own flags can come from, by name. */
function flagSources(command: string[], env: NodeJS.ProcessEnv): Array<[string, string]> {
  const vars = ['ERL_AFLAGS', 'ERL_FLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'].map((v): [string, string] => [v, env[v] ?? '']);
  return [['the command', command.join(' ')], ...vars];
}

/**
 * Returns a message when the command or environment sets a `-kernel inet_dist_*` listen flag
 * that contradicts the helper's: distribution on 127.0.0.1 only, on the manifest's port (a port
 * picked at boot (0) cannot be known in advance, so any fixed one contradicts it).
 */
export function findDistOverride(command: string[], env: NodeJS.ProcessEnv, distPort: number): string | undefined {
  for (const [where, text] of flagSources(command, env)) {
    for (const [, which, value] of text.matchAll(/\binet_dist_listen_(min|max)\s+(\S+)/g)) {
      if (Number(value) !== distPort || distPort === 0) {
        const want = distPort ? `service.distPort ${distPort}` : 'a port the helper picks at boot (service.distPort 0)';
        return `${where} sets -kernel inet_dist_listen_${which} ${value}, which contradicts the helper's distribution port (${want}); `
          + 'remove it and set the port in the manifest';
      }
    }
    for (const [, value] of text.matchAll(/\binet_dist_use_interface\s+(\S+)/g)) {
      if (value.replace(/['"\s]/g, '') !== '{127,0,0,1}') {
        return `${where} sets -kernel inet_dist_use_interface ${value}: `
          + 'the helper keeps distribution on 127.0.0.1, where only the local sidecar reaches it; remove it';
      }
    }
  }
  return undefined;
}

/**
 * inetrc for the BEAM. A host resolves through the hosts file (`file`), then the helper's
 * loopback DNS responder (`dns`), then the system resolver (`native`), for names not ours.
 * The responder answers the live host map at once; the hosts file is the same map, which
 * inet_db re-reads only when 5 s passed since its last look (OTP 25), kept for when the
 * responder cannot answer. Each line, as OTP 25's inet_db applies them in order:
 * - `{resolv_conf, ""}` drops the nameservers and search list inet_config loaded from
 *   /etc/resolv.conf (-name nodes) and stops it watching that file, so `dns` asks no one else;
 * - `{nameserver, {127,0,0,1}, Port}` is then the only nameserver;
 * - `{search, ["."]}`: inet_res tries a dot-less name (an -sname host) only with each search
 *   domain, or with the host's domain when the list is empty; "." means the name as it is;
 * - `{usevc, true}`: queries over TCP only, whose answers another local user cannot forge;
 * - `{domain, D}` (given the node name: its host less the first label, else `localdomain`): OTP's
 *   net_kernel and RabbitMQ's CLI reload the resolver for a long name without a host when the
 *   domain is empty (`inet_config:do_load_resolv/2`), which sets the lookup to `[native]` and the
 *   system's nameserver, and peer hosts stop resolving; with a domain they do not reload
 *   (docs/design/rabbitmq-probe.md).
 */
export function inetrc(hostsFile: string, dnsPort: number, node?: string): string {
  const quoted = hostsFile.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const host = node === undefined ? undefined : splitNodeName(node).host;
  const domain = host === undefined ? [] : [`{domain, "${host.includes('.') ? host.slice(host.indexOf('.') + 1) : 'localdomain'}"}.`];
  return [
    '%% meshx-node: the host map, answered at once by the helper\'s loopback DNS (TCP) and kept in the hosts file',
    `{hosts_file, "${quoted}"}.`,
    '{resolv_conf, ""}.',
    `{nameserver, {127,0,0,1}, ${dnsPort}}.`,
    '{search, ["."]}.',
    '{usevc, true}.',
    ...domain,
    '{lookup, [file, dns, native]}.',
  ].join('\n') + '\n';
}

/** The host map: the node's own host on 127.0.0.1, each peer host on its address. */
export function hostMap(node: string, upstreams: ManifestUpstream[]): Map<string, string> {
  const hosts = new Map<string, string>([[splitNodeName(node).host, '127.0.0.1']]);
  for (const u of upstreams) hosts.set(splitNodeName(u.node).host, u.address);
  return hosts;
}

/** The host map in hosts(5) format. */
export function hostsFile(node: string, upstreams: ManifestUpstream[]): string {
  const lines = [`# meshx-node: host map of ${node}`];
  for (const [host, address] of hostMap(node, upstreams)) lines.push(`${address} ${host}`);
  return lines.join('\n') + '\n';
}

export interface BeamEnvOptions {
  readonly node: string;
  readonly epmdPort: number;
  readonly distPort: number;
  readonly inetrcPath: string;
  readonly stateDir: string;
}

/**
 * The environment of the BEAM: our EPMD (ERL_EPMD_PORT, never -erl_epmd_port), our host map,
 * and distribution pinned to one port on 127.0.0.1 so only the local sidecar reaches it.
 * Our flags go first in ERL_AFLAGS: for `-kernel` parameters the first value wins.
 */
export function beamEnvironment(base: NodeJS.ProcessEnv, o: BeamEnvOptions): NodeJS.ProcessEnv {
  const flags = [
    '-start_epmd false',
    '-kernel inet_dist_use_interface {127,0,0,1}',
    `-kernel inet_dist_listen_min ${o.distPort}`,
    `-kernel inet_dist_listen_max ${o.distPort}`,
  ].join(' ');
  return {
    ...base,
    ERL_EPMD_PORT: String(o.epmdPort),
    ERL_INETRC: o.inetrcPath,
    ERL_AFLAGS: base.ERL_AFLAGS ? `${flags} ${base.ERL_AFLAGS}` : flags,
    MESHX_NODE_NAME: o.node,
    MESHX_EPMD_PORT: String(o.epmdPort),
    MESHX_DIST_PORT: String(o.distPort),
    MESHX_STATE_DIR: o.stateDir,
  };
}

/**
 * What a second BEAM on the host (remote console, release rpc) needs: our EPMD and host map, and
 * its distribution listener on loopback like the node's (any free port: it is short-lived).
 */
export function companionEnvironment(o: { epmdPort: number; inetrcPath: string; node: string }): Record<string, string> {
  return {
    ERL_EPMD_PORT: String(o.epmdPort),
    ERL_INETRC: o.inetrcPath,
    ERL_AFLAGS: '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}',
    MESHX_NODE_NAME: o.node,
  };
}

import { NodeManifest, ProxyKind } from '../manifest/types';
import { ConsulAgent } from './consul/agent';
import { AclLogin } from './consul/login';
import { Logger } from './log';
import { NodeMetrics } from './metrics/recorder';
import { StateDir } from './state-dir';

/** Everything `meshx-node run` decided before booting: validated input only. */
export interface RunOptions {
  /** The manifest the node boots with: with peer groups, `base` plus the members read at boot. */
  readonly manifest: NodeManifest;
  /**
   * With peer groups: the manifest as read (KV, file) and the members read at boot, which the
   * node's follower starts from.
   * @default - the manifest has no members: `manifest` is the base
   */
  readonly base?: { readonly manifest: NodeManifest; readonly members: ReadonlyMap<string, readonly string[]> };
  /** Where the manifest came from (`kv:<key>`, a file, a synth dir), for state.json. */
  readonly manifestSource?: string;
  /** With --kv: the key the watch step follows after boot. */
  readonly kvKey?: string;
  readonly command: string[];
  readonly agent: ConsulAgent;
  /** Path of the token file, passed to the proxy as -token-file. */
  readonly tokenFile?: string;
  /** The node's token comes from an auth-method login (--login-method); exclusive with tokenFile. */
  readonly login?: AclLogin;
  readonly consulBin: string;
  readonly proxyKind: ProxyKind;
  readonly stateDir: StateDir;
  readonly readyTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly grpcAddr?: string;
  readonly envoyBin?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly proxyOutput: Logger;
  /** With --metrics-addr: what the steps record, served by the metrics step. @default - no metrics */
  readonly metrics?: NodeMetrics;
}

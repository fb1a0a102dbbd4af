import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManifestUpstream } from '../manifest/types';
import { companionEnvironment } from './beam-env';
import { InputError, RuntimeFailure } from './errors';
import { helperAlive } from './instance';

/** What a boot resolved, for scripts and for `meshx-node env`. No secrets. */
export interface NodeState {
  readonly node: string;
  readonly serviceId: string;
  readonly helperPid: number;
  readonly epmdPort: number;
  /** The helper's loopback DNS responder (TCP, 127.0.0.1), named by the inetrc. */
  readonly dnsPort?: number;
  readonly distPort: number;
  readonly sidecarPort: number;
  readonly upstreams: ManifestUpstream[];
  readonly inetrc: string;
  /** The hosts file the inetrc points at (the live host map). */
  readonly hosts?: string;
  /** The manifest version in force. */
  readonly version?: ManifestVersion;
  /** The last version refused while running (the node stayed on `version`). */
  readonly refused?: RefusedVersion;
}

/** Which manifest is live: where from, its KV ModifyIndex (with --kv), its digest, since when. */
export interface ManifestVersion {
  readonly source: string;
  readonly index?: number;
  readonly sha256: string;
  readonly appliedAt: string;
}

export interface RefusedVersion {
  readonly index?: number;
  readonly sha256?: string;
  readonly reason: string;
  readonly at: string;
}

export const STATE_FILE = 'state.json';
export const ENV_FILE = 'upstreams.env';
export const INETRC_FILE = 'inetrc';
/** The live host map, read by the BEAM's inet_db (hosts(5) format). */
export const HOSTS_FILE = 'hosts';
/** The peer node names of the live version, one a line (libcluster Epmd `hosts:`, scripts). */
export const PEERS_FILE = 'peers';
export const LOCK_FILE = 'helper.pid';
/** The ACL token of a login (mode 0600), for the proxy's -token-file; removed at stop. */
export const TOKEN_FILE = 'consul.token';

/**
 * Default state dir, one folder per service: /run for root; else $XDG_RUNTIME_DIR (per user,
 * 0700), else ~/.local/state; never the shared, world-writable temp dir.
 */
export function defaultStateDir(
  serviceId: string,
  env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid?.() ?? -1,
  home = os.homedir(),
): string {
  const base = uid === 0 ? '/run' : env.XDG_RUNTIME_DIR || path.join(env.HOME || home, '.local', 'state');
  return path.join(base, 'meshx-node', serviceId);
}

/** Nomad-style names: MESHX_UPSTREAM_<SERVICE>_{ADDR,IP,PORT}. */
export function upstreamEnv(upstreams: ManifestUpstream[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const u of upstreams) {
    const key = u.service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
    out[`MESHX_UPSTREAM_${key}_ADDR`] = `${u.address}:${u.port}`;
    out[`MESHX_UPSTREAM_${key}_IP`] = u.address;
    out[`MESHX_UPSTREAM_${key}_PORT`] = String(u.port);
  }
  return out;
}

export function shellExports(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`).join('\n') + '\n';
}

/** Another helper runs this node: nothing of it may be touched. */
export class InstanceConflict extends RuntimeFailure {}

/** Why a dir is not safe to hold our files, or undefined: ours, a real dir, writable by us alone. */
export function unsafeDirReason(dir: string, uid = process.getuid?.() ?? -1): string | undefined {
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  if (uid >= 0 && st.uid !== uid) return `it is owned by uid ${st.uid}, not by this user (uid ${uid})`;
  if (st.mode & 0o022) return `group or others can write to it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

export class StateDir {
  private locked = false;

  constructor(public readonly dir: string) {}

  public get inetrcPath(): string {
    return path.join(this.dir, INETRC_FILE);
  }

  public get hostsPath(): string {
    return path.join(this.dir, HOSTS_FILE);
  }

  public get peersPath(): string {
    return path.join(this.dir, PEERS_FILE);
  }

  /** The host map: replaced whole (rename), so a BEAM never reads half of it. */
  public writeHosts(text: string): void {
    this.writeFile(HOSTS_FILE, text);
  }

  /** The peers' Erlang node names, sorted, one a line. */
  public writePeers(nodes: string[]): void {
    this.writeFile(PEERS_FILE, [...nodes].sort().map((n) => `${n}\n`).join(''));
  }

  public get tokenPath(): string {
    return path.join(this.dir, TOKEN_FILE);
  }

  /** Writes the login token for the proxy: mode 0600, fresh, never through a symlink. */
  public writeToken(secret: string): void {
    this.writeFile(TOKEN_FILE, secret + '\n', 0o600);
  }

  public removeToken(): void {
    fs.rmSync(this.tokenPath, { force: true });
  }

  public get lockPath(): string {
    return path.join(this.dir, LOCK_FILE);
  }

  /**
   * Creates the dir (0700) or proves an existing one ours and private; a parent that others can
   * write to must be sticky (like /tmp), or they could swap the dir. Refusals are InputError (exit 2).
   */
  public create(): void {
    const parent = path.dirname(this.dir);
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new RuntimeFailure(`--state-dir: cannot create ${this.dir}: ${(e as Error).message}`);
    }
    const reason = unsafeDirReason(this.dir);
    if (reason) throw new InputError(`--state-dir: refusing ${this.dir}: ${reason}`);
    const p = fs.statSync(parent);
    if (p.mode & 0o002 && !(p.mode & 0o1000)) {
      throw new InputError(`--state-dir: refusing ${this.dir}: its parent ${parent} is world-writable without the sticky bit`);
    }
  }

  /**
   * One helper per node and state dir: the pid file is created exclusively; one left by a helper
   * that is gone (killed) is taken over. Throws InstanceConflict while its owner lives.
   */
  public lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(this.lockPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        this.locked = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new RuntimeFailure(`--state-dir: cannot create ${this.lockPath}: ${(e as Error).message}`);
        }
      }
      const owner = this.lockOwner();
      if (owner !== undefined && helperAlive(owner)) {
        throw new InstanceConflict(`already running: helper pid ${owner} holds ${this.lockPath}; stop it first (this run changed nothing)`);
      }
      // Stale: its helper is gone. unlink removes a symlink itself, never its target.
      fs.rmSync(this.lockPath, { force: true });
    }
    throw new InstanceConflict(`another helper took ${this.lockPath} at the same moment`);
  }

  private lockOwner(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(this.lockPath, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  public writeInetrc(text: string): void {
    this.writeFile(INETRC_FILE, text);
  }

  public writeState(s: NodeState): void {
    this.writeFile(STATE_FILE, JSON.stringify(s, null, 2) + '\n');
    const vars = {
      ...companionEnvironment({ epmdPort: s.epmdPort, inetrcPath: this.inetrcPath, node: s.node }),
      MESHX_DIST_PORT: String(s.distPort),
      MESHX_SIDECAR_PORT: String(s.sidecarPort),
      ...upstreamEnv(s.upstreams),
    };
    this.writeFile(ENV_FILE, shellExports(vars));
  }

  /**
   * A fresh file, never through a symlink: created exclusively and without following links
   * under a temp name, then renamed over the target (rename replaces a link, not its target).
   */
  private writeFile(name: string, text: string, mode = 0o644): void {
    const tmp = path.join(this.dir, `.${name}.${process.pid}.tmp`);
    fs.rmSync(tmp, { force: true });
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
    try {
      fs.fchmodSync(fd, mode); // not widened by the umask, not narrowed either
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, name));
  }

  public readState(): NodeState {
    const file = path.join(this.dir, STATE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new Error(`no ${STATE_FILE} in ${this.dir}: is 'meshx-node run' running with this --state-dir?`);
    }
    return JSON.parse(text) as NodeState;
  }

  /** Removes what this helper wrote (the dir too when it is then empty); nothing unless it holds the lock. */
  public remove(): void {
    if (!this.locked) return;
    const files = [TOKEN_FILE, STATE_FILE, ENV_FILE, INETRC_FILE, HOSTS_FILE, PEERS_FILE, LOCK_FILE];
    for (const f of files) fs.rmSync(path.join(this.dir, f), { force: true });
    this.locked = false;
    try {
      fs.rmdirSync(this.dir);
    } catch {
      // not empty or already gone
    }
  }
}

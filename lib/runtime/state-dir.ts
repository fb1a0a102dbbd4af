import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManifestUpstream } from '../manifest/types';
import { companionEnvironment } from './beam-env';

/** What a boot resolved, for scripts and for `meshx-node env`. No secrets. */
export interface NodeState {
  readonly node: string;
  readonly serviceId: string;
  readonly helperPid: number;
  readonly epmdPort: number;
  readonly distPort: number;
  readonly sidecarPort: number;
  readonly upstreams: ManifestUpstream[];
  readonly inetrc: string;
}

export const STATE_FILE = 'state.json';
export const ENV_FILE = 'upstreams.env';
export const INETRC_FILE = 'inetrc';

/** Default state dir: $XDG_RUNTIME_DIR, /run for root, else the temp dir; one folder per service. */
export function defaultStateDir(serviceId: string): string {
  const base = process.env.XDG_RUNTIME_DIR || (process.getuid?.() === 0 ? '/run' : os.tmpdir());
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

export class StateDir {
  constructor(public readonly dir: string) {}

  public get inetrcPath(): string {
    return path.join(this.dir, INETRC_FILE);
  }

  public create(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  public writeInetrc(text: string): void {
    fs.writeFileSync(this.inetrcPath, text, { mode: 0o644 });
  }

  public writeState(s: NodeState): void {
    const tmp = path.join(this.dir, `.${STATE_FILE}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o644 });
    fs.renameSync(tmp, path.join(this.dir, STATE_FILE));
    const vars = { ...companionEnvironment({ epmdPort: s.epmdPort, inetrcPath: this.inetrcPath, node: s.node }), MESHX_DIST_PORT: String(s.distPort), MESHX_SIDECAR_PORT: String(s.sidecarPort), ...upstreamEnv(s.upstreams) };
    fs.writeFileSync(path.join(this.dir, ENV_FILE), shellExports(vars), { mode: 0o644 });
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

  /** Removes what this helper wrote (the dir too when it is then empty). */
  public remove(): void {
    for (const f of [STATE_FILE, ENV_FILE, INETRC_FILE]) fs.rmSync(path.join(this.dir, f), { force: true });
    try {
      fs.rmdirSync(this.dir);
    } catch {
      // not empty or already gone
    }
  }
}

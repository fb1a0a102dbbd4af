// What a benchmark run ran on: commit, machine, and the versions of everything measured.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { toolPaths } from '../support/terraform';

const ROOT = path.resolve(__dirname, '..');

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The commit of the work tree, marked when it has uncommitted changes outside bench/. */
export function commit(): string {
  const head = sh('git', ['rev-parse', '--short=10', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', '.', ':!bench']).length > 0;
  return dirty ? `${head}+uncommitted` : head;
}

function erlangVersions(): string {
  const expr =
    'application:load(ssl), {ok, V} = application:get_key(ssl, vsn), io:format("OTP ~s (erts ~s), ssl ~s, ~s", ' +
    '[erlang:system_info(otp_release), erlang:system_info(version), V, crypto:info_lib() =/= [] andalso element(3, hd(crypto:info_lib()))]), halt().';
  return sh('erl', ['-noshell', '-eval', expr]);
}

function consulVersion(bin: string): string {
  return sh(bin, ['version']).split('\n')[0] || `${bin}: not found`;
}

export interface RunEnv {
  readonly date: string;
  readonly commit: string;
  readonly machine: string;
  readonly node: string;
  readonly erlang: string;
  readonly consul: string;
  readonly terraform: string;
}

export function runEnv(): RunEnv {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const t = toolPaths();
  const entries = t.consulConfigEntriesBin;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: commit(),
    machine: `${os.cpus().length} vCPU (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    node: `Node ${process.version}`,
    erlang: erlangVersions(),
    consul: [`${consulVersion('consul')} (dev agents)`, entries ? `${consulVersion(entries)} (netns cluster)` : ''].filter(Boolean).join('; '),
    terraform: `${sh(t.terraformBin, ['version']).split('\n')[0]}, Consul provider: ${t.providerKind}`,
  };
}

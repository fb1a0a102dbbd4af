// A throwaway cdktf project around one of our apps, driven through the real cdktf CLI
// (synth, diff, deploy, destroy) as a user would, with Terraform and the Consul provider from
// the local mirror. Its state and output stay in its own temp dir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './mesh-node';
import { runTool, RunResult, terraformEnv } from './terraform';

const CDKTF = path.join(ROOT, 'node_modules', '.bin', 'cdktf');
const TS_NODE = path.join(ROOT, 'node_modules', '.bin', 'ts-node');

export class CdktfProject {
  public readonly dir: string;
  public readonly outdir: string;
  private readonly env: NodeJS.ProcessEnv;

  /** `app`: a TypeScript cdktf app (its main file); `env`: what the app and provider read. */
  constructor(app: string, agent: { httpAddr: string; masterToken?: string }, env: Record<string, string> = {}) {
    this.dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-cdktf-'));
    this.outdir = path.join(this.dir, 'cdktf.out');
    // cdktf points TF_PLUGIN_CACHE_DIR at ~/.terraform.d/plugin-cache, shared by every run on
    // the machine; another run whose mirror holds a different provider build replaces the cached
    // package between two terraform commands of one deploy ("the cached package ... does not match
    // any of the checksums recorded in the dependency lock file"). Each project installs from the
    // mirror into its own .terraform instead.
    this.env = terraformEnv(agent, { ...env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: 'true' });
    delete this.env.TF_PLUGIN_CACHE_DIR;
    this.setApp(app);
  }

  /** Points the project at another app: the same stack name then changes in place. */
  public setApp(app: string): void {
    const config = {
      language: 'typescript',
      app: `${process.execPath} ${TS_NODE} --transpile-only --project ${path.join(ROOT, 'tsconfig.dev.json')} ${path.resolve(ROOT, app)}`,
      output: 'cdktf.out',
      sendCrashReports: false,
      terraformProviders: [],
    };
    fs.writeFileSync(path.join(this.dir, 'cdktf.json'), JSON.stringify(config, null, 2));
  }

  // `terraform providers lock`, which cdktf runs when a stack has no lock file, ignores the
  // filesystem mirror and asks the public registry: skip it (the mirror is what we trust).
  private cdktf(...args: string[]): Promise<RunResult> {
    return runTool([process.execPath, CDKTF, ...args], { cwd: this.dir, env: this.env, timeoutMs: 600_000 });
  }

  public synth(): Promise<RunResult> {
    return this.cdktf('synth');
  }

  public diff(stack: string): Promise<RunResult> {
    return this.cdktf('diff', stack, '--skip-provider-lock');
  }

  public deploy(stack: string): Promise<RunResult> {
    return this.cdktf('deploy', stack, '--auto-approve', '--skip-provider-lock');
  }

  public destroy(stack: string): Promise<RunResult> {
    return this.cdktf('destroy', stack, '--auto-approve', '--skip-provider-lock');
  }

  /** The stack's dir in cdktf.out, where terraform runs. */
  public stackDir(stack: string): string {
    return path.join(this.outdir, 'stacks', stack);
  }

  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

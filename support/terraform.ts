// Deploys synthesized stacks through the real Terraform CLI and the Consul provider that
// scripts/go-tools.sh put in a local filesystem mirror (the stand-in while the real provider's
// module is refused): no registry is ever asked.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConsulAgent } from '../lib/runtime/consul/agent';

export interface ToolPaths {
  /** The Terraform-compatible CLI (the machine's terraform, else an OpenTofu build). */
  readonly terraformBin: string;
  /** CLI config whose provider_installation is the local filesystem mirror only. */
  readonly cliConfig: string;
  /** A Consul with service-intentions config entries (1.9 to 1.14), built from Go modules. */
  readonly consulConfigEntriesBin?: string;
  /** `real` (a provider binary was given) or `standin` (support/go/provider-standin). */
  readonly providerKind: string;
}

export const TOOLS_DIR = process.env.MESHX_TOOLS_DIR || '/opt/meshx-node';

/** What scripts/go-tools.sh recorded in tools.env. */
export function toolPaths(): ToolPaths {
  const file = path.join(TOOLS_DIR, 'tools.env');
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run 'bash scripts/setup.sh' first (it builds the Terraform Consul provider)`);
  const vars: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  }
  const need = (k: string) => {
    if (!vars[k]) throw new Error(`${file} has no ${k}: run 'bash scripts/setup.sh' again`);
    return vars[k];
  };
  return {
    terraformBin: need('MESHX_TERRAFORM_BIN'),
    cliConfig: need('MESHX_TERRAFORM_CLI_CONFIG'),
    consulConfigEntriesBin: vars.MESHX_CONSUL_CONFIG_ENTRIES_BIN,
    providerKind: need('MESHX_TERRAFORM_PROVIDER_KIND'),
  };
}

/** Environment for terraform and cdktf: the mirror-only CLI config, the agent, its token. */
export function terraformEnv(agent: { httpAddr: string; masterToken?: string }, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const t = toolPaths();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: t.cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    CONSUL_HTTP_ADDR: agent.httpAddr,
    TERRAFORM_BINARY_NAME: t.terraformBin,
    ...extra,
  };
  delete env.CONSUL_HTTP_TOKEN;
  if (agent.masterToken) env.CONSUL_HTTP_TOKEN = agent.masterToken;
  return env;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`); rejects with its output on failure. */
export function runTool(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { cwd: o.cwd, env: o.env, timeout: o.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${path.basename(argv[0])} ${argv.slice(1).join(' ')} failed (in ${o.cwd}): ${err.message}\n${stdout}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** One synthesized stack directory (`<outdir>/stacks/<name>`), driven with the Terraform CLI. */
export class TerraformStackDir {
  private initialized = false;

  constructor(public readonly dir: string, private readonly env: NodeJS.ProcessEnv) {}

  private tf(...args: string[]): Promise<RunResult> {
    return runTool([toolPaths().terraformBin, ...args], { cwd: this.dir, env: this.env });
  }

  public async init(): Promise<void> {
    if (this.initialized) return;
    await this.tf('init', '-input=false', '-no-color');
    this.initialized = true;
  }

  public async apply(): Promise<void> {
    await this.init();
    await this.tf('apply', '-auto-approve', '-input=false', '-no-color');
  }

  /** Saves a plan and returns `terraform show -json` of it. */
  public async plan(destroy = false): Promise<any> {
    await this.init();
    await this.tf('plan', '-input=false', '-no-color', '-out=meshx.tfplan', ...(destroy ? ['-destroy'] : []));
    return JSON.parse((await this.tf('show', '-json', 'meshx.tfplan')).stdout);
  }

  public async destroy(): Promise<void> {
    await this.init();
    await this.tf('destroy', '-auto-approve', '-input=false', '-no-color');
  }

  /** The resources in the state, as `terraform show -json` gives them. */
  public async resources(): Promise<Array<{ type: string; name: string; values: any }>> {
    const state = JSON.parse((await this.tf('show', '-json')).stdout);
    return state.values?.root_module?.resources ?? [];
  }

  /** Accessor IDs of the ACL tokens the provider created, by the service their identity names. */
  public async tokenAccessors(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const r of await this.resources()) {
      if (r.type !== 'consul_acl_token') continue;
      const service = r.values.service_identities?.[0]?.service_name;
      if (service) out[service] = r.values.accessor_id ?? r.values.id;
    }
    return out;
  }
}

/** Deploys `<outdir>/stacks/<stack>` with terraform init + apply against the agent. */
export async function deploySynth(outdir: string, stack: string, agent: { httpAddr: string; masterToken?: string }): Promise<TerraformStackDir> {
  const dir = new TerraformStackDir(path.join(outdir, 'stacks', stack), terraformEnv(agent));
  await dir.apply();
  return dir;
}

/**
 * Reads a token's secret with the management token, as an operator would with
 * `consul acl token read -id <accessor>`, into a file only its owner can read.
 */
export async function writeTokenFile(api: ConsulAgent, accessorId: string, file: string): Promise<string> {
  const r = await api.request('GET', `/v1/acl/token/${accessorId}`);
  if (r.status !== 200) throw new Error(`cannot read ACL token ${accessorId}: ${r.status} ${r.text}`);
  fs.writeFileSync(file, JSON.parse(r.text).SecretID + '\n', { mode: 0o600 });
  return file;
}

import { Command } from 'commander';
import { queryTemplateDefinition, queryTemplateName } from '../manifest/replicas';
import { isServiceName } from '../manifest/names';
import { agentBaseUrl, ConsulAgent, ConsulError } from '../runtime/consul/agent';
import { AgentTlsFlags, agentTlsOptions } from '../runtime/consul/tls';
import { InputError, RuntimeFailure } from '../runtime/errors';
import { readToken } from './run';

interface MeshInitFlags extends AgentTlsFlags {
  mesh: string;
  consulAddr?: string;
  tokenFile?: string;
}

/**
 * Creates the mesh's prepared-query template, or updates it to this version's definition; says
 * which. Idempotent. For Consul 1.8, whose API refuses the Terraform provider's request for it.
 */
export async function initMeshQuery(agent: Pick<ConsulAgent, 'request'>, mesh: string): Promise<string> {
  const name = queryTemplateName(mesh);
  const body = queryTemplateDefinition(mesh);
  const list = await agent.request('GET', '/v1/query');
  if (list.status !== 200) throw new ConsulError(list.status, '/v1/query', list.text);
  const existing = (JSON.parse(list.text) as Array<{ ID: string; Name: string }> | null ?? []).find((q) => q.Name === name);
  const path = existing ? `/v1/query/${encodeURIComponent(existing.ID)}` : '/v1/query';
  const r = await agent.request(existing ? 'PUT' : 'POST', path, body);
  if (r.status !== 200) {
    const hint = r.status === 403 ? ` (the token needs: query "${name}" { policy = "write" })` : '';
    throw new RuntimeFailure(`the agent refused the prepared-query template ${name}: ${r.status} ${r.text.trim()}${hint}`);
  }
  const id = existing?.ID ?? (JSON.parse(r.text) as { ID: string }).ID;
  return `${existing ? 'updated' : 'created'} prepared-query template ${name} (id ${id})`;
}

/** `meshx-node mesh init`: the one-time setup a mesh's replica groups need on Consul 1.8. */
export function addMeshCommand(program: Command, env: NodeJS.ProcessEnv, out: (s: string) => void): void {
  const mesh = program.command('mesh').summary('set up what a mesh needs outside Terraform');
  mesh
    .command('init')
    .summary('create or update the mesh\'s prepared-query template (replica groups on Consul 1.8)')
    .description('Create or update the prepared-query template that reaches one replica of a group, `meshx~<mesh>~`. '
      + 'Needed once per mesh where Terraform cannot create it (Consul 1.8; BeamMesh replicaQuery OPERATOR). '
      + 'The token needs query "meshx~<mesh>~" { policy = "write" }.')
    .requiredOption('--mesh <name>', 'the mesh\'s name (BeamMesh meshName)')
    .option('--consul-addr <url>', 'Consul agent HTTP address (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500)')
    .option('--ca-file <file>', 'CA certificate (PEM) to verify an https agent (default: $CONSUL_CACERT)')
    .option('--ca-path <dir>', 'directory of CA certificates (default: $CONSUL_CAPATH)')
    .option('--client-cert <file>', 'client certificate (PEM) (default: $CONSUL_CLIENT_CERT)')
    .option('--client-key <file>', 'key of --client-cert (default: $CONSUL_CLIENT_KEY)')
    .option('--tls-server-name <name>', 'server name to verify the agent\'s certificate against (default: $CONSUL_TLS_SERVER_NAME)')
    .option('--token-file <file>', 'ACL token file (default: $CONSUL_HTTP_TOKEN_FILE, else $CONSUL_HTTP_TOKEN)')
    .action(async (flags: MeshInitFlags) => {
      if (!isServiceName(flags.mesh)) throw new InputError(`--mesh: '${flags.mesh}' is not a mesh name (a lowercase DNS label)`);
      // Its own token only: never the login settings of `run` ($MESHX_LOGIN_METHOD).
      const address = flags.consulAddr ?? env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500';
      try {
        agentBaseUrl(address, env.CONSUL_HTTP_SSL === 'true');
      } catch (e) {
        throw new InputError(`--consul-addr: ${(e as Error).message}`);
      }
      const { token } = readToken(flags, env);
      const agent = new ConsulAgent({ address, ssl: env.CONSUL_HTTP_SSL === 'true', token, tls: agentTlsOptions(flags, env) });
      try {
        out(`${await initMeshQuery(agent, flags.mesh)}\n`);
      } catch (e) {
        if (e instanceof RuntimeFailure) throw e;
        throw new RuntimeFailure((e as Error).message);
      } finally {
        agent.close();
      }
    });
}

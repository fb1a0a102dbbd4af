// Consul agent configurations of a production-shaped cluster (Consul 1.12+ `tls` stanza):
// ACLs on with default deny, gossip encryption, TLS for RPC with verified server names, and the
// HTTP API on HTTPS only with verify_incoming, bound to the host's loopback.
import { CertPair } from './tls-material';

export interface AgentConfigInput {
  readonly nodeName: string;
  readonly datacenter: string;
  readonly dataDir: string;
  readonly bindAddr: string;
  readonly gossipKey: string;
  readonly ca: string;
  readonly pair: CertPair;
  /** The agent's own ACL token. */
  readonly agentToken: string;
}

const q = (s: string) => JSON.stringify(s);

function common(i: AgentConfigInput): string {
  return `datacenter = ${q(i.datacenter)}
node_name = ${q(i.nodeName)}
data_dir = ${q(i.dataDir)}
bind_addr = ${q(i.bindAddr)}
client_addr = "127.0.0.1"
encrypt = ${q(i.gossipKey)}
log_level = "INFO"
ports { http = -1 https = 8501 dns = -1 grpc = -1 grpc_tls = -1 }
tls {
  defaults {
    ca_file = ${q(i.ca)}
    cert_file = ${q(i.pair.cert)}
    key_file = ${q(i.pair.key)}
    verify_incoming = true
    verify_outgoing = true
  }
  internal_rpc { verify_server_hostname = true }
}
connect { enabled = true }
`;
}

/** The one server: bootstraps itself; its HTTPS API also listens on a unix socket for the tunnel. */
export function serverConfig(i: AgentConfigInput & { bootstrapToken: string; socketPath: string }): string {
  return `${common(i)}server = true
bootstrap_expect = 1
addresses { https = ${q(`127.0.0.1 unix://${i.socketPath}`)} }
unix_sockets { mode = "0600" }
acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens { initial_management = ${q(i.bootstrapToken)} agent = ${q(i.agentToken)} }
}
`;
}

/** A client agent: joins the server; its agent token has a node identity only. */
export function clientConfig(i: AgentConfigInput & { join: string }): string {
  return `${common(i)}server = false
retry_join = [${q(i.join)}]
retry_interval = "1s"
acl {
  enabled = true
  default_policy = "deny"
  enable_token_persistence = false
  tokens { agent = ${q(i.agentToken)} }
}
`;
}

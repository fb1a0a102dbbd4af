// A throwaway CA and certificates made by Consul's own `consul tls` commands in a temp dir:
// one server certificate (server.<dc>.consul plus the server's address), one client certificate
// per client agent, and one CLI certificate that helpers, the tunnel and operators present to
// agents with verify_incoming.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface TlsMaterialFiles {
  readonly dir: string;
  readonly ca: string;
  readonly server: CertPair;
  readonly clients: CertPair[];
  readonly cli: CertPair;
}

function consulTls(consul: string, dir: string, args: string[]): string {
  return execFileSync(consul, ['tls', ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The file `consul tls cert create` just wrote (the name says `-<n>.pem`, n counting up). */
function newest(dir: string, prefix: string, before: Set<string>): CertPair {
  const cert = fs.readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.pem') && !f.endsWith('-key.pem') && !before.has(f));
  if (!cert) throw new Error(`consul tls cert create wrote no ${prefix}*.pem in ${dir}`);
  return { cert: path.join(dir, cert), key: path.join(dir, cert.replace(/\.pem$/, '-key.pem')) };
}

/** Creates the CA, a server certificate naming `serverAddress`, `clients` client certificates and a CLI one. */
export function createTlsMaterial(consul: string, dir: string, o: { datacenter: string; serverAddress: string; clients: number }): TlsMaterialFiles {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  consulTls(consul, dir, ['ca', 'create', '-days', '2']);
  const make = (kind: string, prefix: string, extra: string[] = []) => {
    const before = new Set(fs.readdirSync(dir));
    consulTls(consul, dir, ['cert', 'create', kind, '-dc', o.datacenter, '-days', '2', ...extra]);
    return newest(dir, `${o.datacenter}-${prefix}`, before);
  };
  const server = make('-server', 'server-', ['-additional-ipaddress', o.serverAddress]);
  const clients = Array.from({ length: o.clients }, () => make('-client', 'client-'));
  const cli = make('-cli', 'cli-');
  return { dir, ca: path.join(dir, 'consul-agent-ca.pem'), server, clients, cli };
}

// TLS settings for an HTTPS Consul agent, read the way Consul's own CLI reads them: flags first,
// then CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME
// and CONSUL_HTTP_SSL_VERIFY. Only file paths are kept in options and handed to the proxy child;
// the key's contents are read here and never logged.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../errors';

/** Paths and switches, as the consul CLI takes them. */
export interface AgentTlsOptions {
  readonly caFile?: string;
  readonly caPath?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly serverName?: string;
  /** false: do not verify the agent's certificate (CONSUL_HTTP_SSL_VERIFY=false). @default true */
  readonly verify?: boolean;
}

/** What node:tls needs for a connection, read from the files. */
export interface TlsMaterial {
  readonly ca?: string[];
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** The CLI flags of `meshx-node run`, named as Consul's (-ca-file, -ca-path, ...). */
export interface AgentTlsFlags {
  readonly caFile?: string;
  readonly caPath?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly tlsServerName?: string;
}

/** Flags over environment; a client certificate needs its key and the other way round. */
export function agentTlsOptions(flags: AgentTlsFlags, env: NodeJS.ProcessEnv): AgentTlsOptions {
  const pick = (flag: string | undefined, name: string) => flag ?? (env[name] || undefined);
  const verifyEnv = env.CONSUL_HTTP_SSL_VERIFY;
  if (verifyEnv !== undefined && verifyEnv !== '' && !/^(true|false|1|0)$/i.test(verifyEnv)) {
    throw new InputError(`$CONSUL_HTTP_SSL_VERIFY must be true or false, got '${verifyEnv}'`);
  }
  const o: AgentTlsOptions = {
    caFile: pick(flags.caFile, 'CONSUL_CACERT'),
    caPath: pick(flags.caPath, 'CONSUL_CAPATH'),
    clientCert: pick(flags.clientCert, 'CONSUL_CLIENT_CERT'),
    clientKey: pick(flags.clientKey, 'CONSUL_CLIENT_KEY'),
    serverName: pick(flags.tlsServerName, 'CONSUL_TLS_SERVER_NAME'),
    verify: !/^(false|0)$/i.test(verifyEnv ?? ''),
  };
  if (o.clientCert && !o.clientKey) throw new InputError('--client-cert (or $CONSUL_CLIENT_CERT) needs --client-key (or $CONSUL_CLIENT_KEY)');
  if (o.clientKey && !o.clientCert) throw new InputError('--client-key (or $CONSUL_CLIENT_KEY) needs --client-cert (or $CONSUL_CLIENT_CERT)');
  return o;
}

/** True when any TLS setting was given (an http:// address with them is a mistake worth naming). */
export function hasTlsSettings(o: AgentTlsOptions): boolean {
  return !!(o.caFile || o.caPath || o.clientCert || o.clientKey || o.serverName || o.verify === false);
}

function readPem(file: string, flag: string, what: RegExp, label: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!what.test(text)) throw new InputError(`${flag}: ${file} holds no PEM ${label}`);
  return text;
}

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** Reads the files named by the options; bad files are input errors naming the flag. */
export function loadTlsMaterial(o: AgentTlsOptions): TlsMaterial {
  const ca: string[] = [];
  if (o.caFile) ca.push(readPem(o.caFile, '--ca-file', CERT, 'certificate'));
  if (o.caPath) {
    let names: string[];
    try {
      names = fs.readdirSync(o.caPath).filter((n) => /\.(pem|crt)$/.test(n)).sort();
    } catch (e) {
      throw new InputError(`--ca-path: cannot read the directory ${o.caPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    // As Consul's CLI: every certificate in the directory; other files (keys) are passed over.
    const certs = names.map((n) => fs.readFileSync(path.join(o.caPath!, n), 'utf8')).filter((t) => CERT.test(t));
    if (!certs.length) throw new InputError(`--ca-path: ${o.caPath} holds no .pem or .crt file with a certificate`);
    ca.push(...certs);
  }
  return {
    ca: ca.length ? ca : undefined,
    cert: o.clientCert ? readPem(o.clientCert, '--client-cert', CERT, 'certificate') : undefined,
    key: o.clientKey ? readPem(o.clientKey, '--client-key', KEY, 'private key') : undefined,
    servername: o.serverName,
    rejectUnauthorized: o.verify !== false,
  };
}

/** The same settings for a consul CLI child (the sidecar proxy), as the environment it reads. */
export function tlsCliEnv(o: AgentTlsOptions): Record<string, string> {
  const env: Record<string, string> = {};
  if (o.caFile) env.CONSUL_CACERT = path.resolve(o.caFile);
  if (o.caPath) env.CONSUL_CAPATH = path.resolve(o.caPath);
  if (o.clientCert) env.CONSUL_CLIENT_CERT = path.resolve(o.clientCert);
  if (o.clientKey) env.CONSUL_CLIENT_KEY = path.resolve(o.clientKey);
  if (o.serverName) env.CONSUL_TLS_SERVER_NAME = o.serverName;
  if (o.verify === false) env.CONSUL_HTTP_SSL_VERIFY = 'false';
  return env;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** A TLS alert that says the server wanted (another) client certificate, by OpenSSL code or in the message. */
const CLIENT_CERT_ALERT = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED)/;
const CLIENT_CERT_ALERT_TEXT = /alert (certificate required|bad certificate|unknown ca|certificate unknown|certificate expired)/i;

/** 'expired at …' or 'not valid before …' when the certificate in `file` is not valid now; undefined otherwise. */
export function certificateNotValidNow(file: string, now = new Date()): string | undefined {
  let cert: import('node:crypto').X509Certificate;
  try {
    const { X509Certificate }: typeof import('node:crypto') = require('node:crypto');
    cert = new X509Certificate(fs.readFileSync(file));
  } catch {
    return undefined;
  }
  const iso = (d: string) => new Date(d).toISOString();
  if (new Date(cert.validTo) < now) return `expired at ${iso(cert.validTo)}`;
  if (new Date(cert.validFrom) > now) return `not valid before ${iso(cert.validFrom)}`;
  return undefined;
}

/** Why the agent refused our client certificate, naming the file: its dates, else whom it must be signed by. */
function refusedClientCert(o: AgentTlsOptions, which: string): string {
  const file = o.clientCert!;
  const dates = certificateNotValidNow(file);
  const why = dates ? `it ${dates}` : "is it signed by the CA the agent trusts (its ca_file)?";
  return `the agent refused our client certificate ${file} (--client-cert, $CONSUL_CLIENT_CERT): ${why}: ${which}`;
}

/**
 * Says in words which TLS setting a connection error points at, naming the file and the reason
 * (expired, unknown CA), or undefined when it is not a TLS problem. `o` is what was configured (a
 * missing client certificate reads differently from a refused one).
 */
export function explainTlsError(e: NodeJS.ErrnoException & { reason?: string }, o: AgentTlsOptions): string | undefined {
  const code = e.code ?? '';
  const msg = e.message ?? '';
  if (UNTRUSTED.has(code)) {
    const given = o.caFile || o.caPath ? `: ${[o.caFile, o.caPath].filter(Boolean).join(', ')}` : ': none given';
    return `the agent's certificate is not trusted by the CA given (--ca-file/--ca-path, $CONSUL_CACERT/$CONSUL_CAPATH${given}): unknown CA, ${code}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the agent's certificate does not name the host dialled (set --tls-server-name or $CONSUL_TLS_SERVER_NAME): ${e.reason ?? msg}`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    const what = code === 'CERT_HAS_EXPIRED' ? 'has expired' : 'is not valid yet';
    return `the agent's certificate ${what} (its cert_file must be renewed, then \`consul reload\`): ${code}`;
  }
  const alert = CLIENT_CERT_ALERT.exec(code) ?? CLIENT_CERT_ALERT_TEXT.exec(msg);
  if (alert) {
    const which = `TLS alert ${alert[1].toLowerCase().replace(/_/g, ' ')}`;
    return o.clientCert
      ? refusedClientCert(o, which)
      : 'the agent requires a client certificate (verify_incoming): set --client-cert and --client-key ' +
          `(or $CONSUL_CLIENT_CERT and $CONSUL_CLIENT_KEY): ${which}`;
  }
  // Some servers close without an alert the client gets to read (TLS 1.3 checks the client's
  // certificate after the client finished its handshake).
  if (code === 'ECONNRESET' || /socket hang up/.test(msg)) {
    const dates = o.clientCert ? certificateNotValidNow(o.clientCert) : undefined;
    if (dates) return refusedClientCert(o, `closed without an alert (${code || msg})`);
    const flags = `--client-cert/--client-key, $CONSUL_CLIENT_CERT/$CONSUL_CLIENT_KEY${o.clientCert ? '' : ': none given'}`;
    return `the agent closed the TLS connection: with verify_incoming it does so for a missing or untrusted client certificate (${flags})`;
  }
  if (code === 'EPROTO' && /wrong version number|packet length too long/i.test(msg)) {
    return 'the agent does not speak TLS on this port (use an http:// address, or the agent\'s HTTPS port)';
  }
  return undefined;
}

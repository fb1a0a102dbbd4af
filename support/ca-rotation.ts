// A Connect CA rotation driven the way an operator does it (`consul connect ca set-config` with a
// new built-in CA key and root, through the API the CLI calls), and what shows it took: the
// agent's active root, the leaf certificates a sidecar's public listener serves, and a BEAM that
// keeps dialing new distribution connections meanwhile.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConsulAgent } from '../lib/runtime/consul/agent';
import { MeshNode } from './mesh-node';

export interface CaRoots {
  readonly activeRootId: string;
  readonly trustDomain: string;
  readonly roots: Array<{ id: string; active: boolean; rootCert: string; intermediates: string[] }>;
}

export async function caRoots(api: ConsulAgent): Promise<CaRoots> {
  const r = await api.request('GET', '/v1/agent/connect/ca/roots');
  if (r.status !== 200) throw new Error(`/v1/agent/connect/ca/roots answered ${r.status}: ${r.text}`);
  const j = JSON.parse(r.text) as {
    ActiveRootID: string;
    TrustDomain: string;
    Roots: Array<{ ID: string; Active: boolean; RootCert: string; IntermediateCerts?: string[] | null }>;
  };
  return {
    activeRootId: j.ActiveRootID,
    trustDomain: j.TrustDomain,
    roots: j.Roots.map((x) => ({ id: x.ID, active: x.Active, rootCert: x.RootCert, intermediates: x.IntermediateCerts ?? [] })),
  };
}

/** A new EC P-256 CA key and self-signed root naming the trust domain (what Consul's docs have operators make). */
export function newCaRoot(trustDomain: string): { privateKey: string; rootCert: string } {
  const dir = fs.mkdtempSync(path.join(process.env.MESHX_TEST_TMP || os.tmpdir(), 'meshx-ca-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'root.pem',
      '-days', '2', '-subj', '/CN=meshx test root', '-addext', `subjectAltName=URI:spiffe://${trustDomain}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ], { cwd: dir, stdio: 'ignore', timeout: 30_000 });
    return { privateKey: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), rootCert: fs.readFileSync(path.join(dir, 'root.pem'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** PUT /v1/connect/ca/configuration (what `consul connect ca set-config` sends): provider consul, the new key and root, a leaf TTL. */
export async function setCaConfig(api: ConsulAgent, ca: { privateKey: string; rootCert: string }, leafCertTtl: string): Promise<void> {
  const body = { Provider: 'consul', Config: { PrivateKey: ca.privateKey, RootCert: ca.rootCert, LeafCertTTL: leafCertTtl } };
  const r = await api.request('PUT', '/v1/connect/ca/configuration', body);
  if (r.status !== 200) throw new Error(`setting the CA configuration answered ${r.status}: ${r.text.trim()}`);
}

/** True when `certPem` was signed by `rootPem`, directly or through one of `intermediates` it signed. */
export function signedBy(certPem: string, rootPem: string, intermediates: string[] = []): boolean {
  const cert = new X509Certificate(certPem);
  const root = new X509Certificate(rootPem);
  const issuers = [root, ...intermediates.map((p) => new X509Certificate(p)).filter((i) => i.verify(root.publicKey))];
  return issuers.some((i) => cert.checkIssued(i) && cert.verify(i.publicKey));
}

/**
 * The certificate a sidecar's public listener presents to a new TLS client, read with `openssl
 * s_client` (run under `wrap`, e.g. inside a cluster host's namespace); undefined when none came.
 */
export function servedCertificate(host: string, port: number, wrap: string[] = []): string | undefined {
  const argv = [...wrap, 'openssl', 's_client', '-connect', `${host}:${port}`];
  let out = '';
  try {
    out = execFileSync(argv[0], argv.slice(1), { input: '', encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch (e) {
    // The proxy wants a client certificate and ends the handshake with an alert: s_client exits 1
    // after printing the server's certificate.
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
}

/** Hours between a certificate's notBefore and notAfter. */
export function lifetimeHours(certPem: string): number {
  const c = new X509Certificate(certPem);
  return (new Date(c.validTo).getTime() - new Date(c.validFrom).getTime()) / 3_600_000;
}

/**
 * Starts a process in `from` that, until stopped, drops its connection to `peer` and pings it
 * again every `pauseMs` (a new distribution connection, so a new TLS handshake on both sidecars
 * each time), counting pongs and pangs and the longest time between two pongs (since the last
 * mark, see markRedialLoop).
 */
export async function startRedialLoop(from: MeshNode, peer: string, pauseMs = 100): Promise<void> {
  const expr =
    `P = list_to_atom("${peer}"), Now = fun() -> erlang:monotonic_time(millisecond) end, ` +
    'Loop = fun L(Last, Gap, Pongs, Pangs) -> receive {stop, From} -> From ! {redial, Pongs, Pangs, max(Gap, Now() - Last)}; ' +
    '{mark, From} -> From ! {redial, Pongs, Pangs, Gap}, L(Last, 0, Pongs, Pangs) ' +
    `after ${pauseMs} -> erlang:disconnect_node(P), case net_adm:ping(P) of ` +
    'pong -> T = Now(), L(T, max(Gap, T - Last), Pongs + 1, Pangs); pang -> L(Last, Gap, Pongs, Pangs + 1) end end end, ' +
    'register(meshx_redial, spawn(fun() -> Loop(Now(), 0, 0, 0) end))';
  const r = await from.eval(expr);
  if (!/^true$/.test(r)) throw new Error(`redial loop did not start in ${from.name}: ${r}`);
}

export interface RedialResult {
  readonly pongs: number;
  readonly pangs: number;
  readonly longestGapMs: number;
}

/** The counts so far and the longest gap since the start; the longest gap starts again from here. */
export function markRedialLoop(from: MeshNode): Promise<RedialResult> {
  return askRedialLoop(from, 'mark');
}

/** Stops the loop: the counts since the start, the longest gap since the mark. */
export function stopRedialLoop(from: MeshNode): Promise<RedialResult> {
  return askRedialLoop(from, 'stop');
}

async function askRedialLoop(from: MeshNode, what: 'mark' | 'stop'): Promise<RedialResult> {
  const r = await from.eval(`meshx_redial ! {${what}, self()}, receive {redial, A, B, C} -> {A, B, C} after 20000 -> timeout end`, 30_000);
  const m = /^\{(\d+),(\d+),(\d+)\}$/.exec(r);
  if (!m) throw new Error(`redial loop in ${from.name} answered ${r}`);
  return { pongs: Number(m[1]), pangs: Number(m[2]), longestGapMs: Number(m[3]) };
}

/** The leaf certificate the agent holds for a service (the one its sidecar is given), as PEM. */
export async function agentLeaf(api: ConsulAgent, service: string): Promise<string> {
  const r = await api.request('GET', `/v1/agent/connect/ca/leaf/${encodeURIComponent(service)}`);
  if (r.status !== 200) throw new Error(`/v1/agent/connect/ca/leaf/${service} answered ${r.status}: ${r.text}`);
  return (JSON.parse(r.text) as { CertPEM: string }).CertPEM;
}

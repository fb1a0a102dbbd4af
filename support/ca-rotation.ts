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
import { poll } from './wait';

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

export interface RotationOptions {
  /** The agent API the rotation goes through (set-config, roots). */
  readonly api: ConsulAgent;
  /** The node that keeps dialing `peer` anew throughout. */
  readonly from: MeshNode;
  readonly peer: string;
  /** The certificates the sidecars' public listeners serve now, one per sidecar. */
  readonly served: () => Array<string | undefined>;
  /** More leaves that must be signed by the new root before it counts as taken (e.g. the agent's). @default none */
  readonly leaves?: () => Promise<string[]>;
  /** Names the run in its log line (`[ca-rotation] LABEL: …`). */
  readonly label: string;
  /** Between two looks for the new root and leaves. @default 1000 */
  readonly pollMs?: number;
}

export interface RotationResult {
  /** The roots before the rotation. */
  readonly before: CaRoots;
  /** The roots at the end (the old one should still be there, trusted meanwhile). */
  readonly after?: CaRoots;
  /** The new root certificate (PEM) set with set-config. */
  readonly newRootCert?: string;
  /** From set-config to the new root active and every leaf signed by it; -1 when not within 90 s. */
  readonly reissuedMs: number;
  /** What the sidecars served 5 s after that (empty when it never happened). */
  readonly servedAfter: Array<string | undefined>;
  /** Redials before the rotation (8 s under the old root: the gap to compare with). */
  readonly baseline?: RedialResult;
  /** Redials over the whole run; its longest gap is the one since the rotation began. */
  readonly redial: RedialResult;
}

/**
 * The rotation both Consul versions' tests drive: with the served leaves signed by the active root
 * (else it throws), a redial loop from `from` to `peer`, 8 s of it under the old root, a new CA key
 * and root with leaf TTL 1h, then until the new root is active and every leaf is signed by it, 5 s
 * more with the new leaves only. The loop is stopped and its counts logged whatever happens.
 */
export async function rotateUnderRedial(o: RotationOptions): Promise<RotationResult> {
  const before = await caRoots(o.api);
  const old = before.roots.find((x) => x.active);
  if (!old || !o.served().every((c) => c !== undefined && signedBy(c, old.rootCert, old.intermediates))) {
    throw new Error(`${o.label}: before the rotation, not every sidecar served a leaf of the active root`);
  }
  await startRedialLoop(o.from, o.peer);
  let baseline: RedialResult | undefined;
  let after: CaRoots | undefined;
  let newRootCert: string | undefined;
  let reissuedMs = -1;
  let servedAfter: Array<string | undefined> = [];
  let redial: RedialResult;
  try {
    await sleep(8000);
    baseline = await markRedialLoop(o.from);
    const ca = newCaRoot(before.trustDomain);
    newRootCert = ca.rootCert;
    // 1h is the shortest leaf TTL Consul 1.8.7 (and 1.14.11) accepts ("must be greater or equal than 1h0m0s").
    await setCaConfig(o.api, ca, '1h');
    const rotatedAt = Date.now();
    // Bounded: Consul spreads leaf re-issue over up to 30 s after a new root.
    const done = await poll(async () => {
      const active = (await caRoots(o.api)).roots.find((x) => x.active);
      if (!active || active.id === before.activeRootId) return false;
      const leaves = [...(o.leaves ? await o.leaves() : []), ...o.served()];
      return leaves.every((c) => c !== undefined && signedBy(c, ca.rootCert, active.intermediates));
    }, (ok) => ok, { timeoutMs: 90_000, intervalMs: o.pollMs ?? 1000 });
    if (done.met) {
      reissuedMs = Date.now() - rotatedAt;
      await sleep(5000); // new connections with the new leaves only
      servedAfter = o.served();
    }
    after = await caRoots(o.api);
  } finally {
    redial = await stopRedialLoop(o.from);
    process.stdout.write(
      `[ca-rotation] ${o.label}: ${redial.pongs} pongs, ${redial.pangs} pangs, longest gap ${redial.longestGapMs} ms ` +
        `(before the rotation: ${baseline?.pongs} pongs, ${baseline?.pangs} pangs, longest gap ${baseline?.longestGapMs} ms); ` +
        `new root and leaves served ${reissuedMs} ms after set-config\n`,
    );
  }
  return { before, after, newRootCert, reissuedMs, servedAfter, baseline, redial };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

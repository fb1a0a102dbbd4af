// The agent TLS files (--ca-file, --ca-path, --client-cert, --client-key) read again when they
// change on disk, so an operator who renews an expired client certificate or replaces a CA fixes a
// running helper without restarting it. A change is looked for at most once per interval (one
// stat per file) and at once after a TLS failure; files that cannot be used yet (a certificate
// written before its key) keep the ones read before.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentTlsOptions, certificateNotValidNow, loadTlsMaterial, TlsMaterial } from './tls';

/** What each file is, as the flag that names it, and its path. */
function watched(o: AgentTlsOptions): Array<[string, string]> {
  const files: Array<[string, string]> = [];
  if (o.caFile) files.push(['--ca-file', o.caFile]);
  if (o.caPath) {
    files.push(['--ca-path', o.caPath]);
    let names: string[] = [];
    try {
      names = fs.readdirSync(o.caPath).filter((n) => /\.(pem|crt)$/.test(n));
    } catch {
      // Named by the directory's own stamp ('missing').
    }
    for (const n of names) files.push(['--ca-path', path.join(o.caPath, n)]);
  }
  if (o.clientCert) files.push(['--client-cert', o.clientCert]);
  if (o.clientKey) files.push(['--client-key', o.clientKey]);
  return files;
}

/** Inode, size and modification time: a rewrite in place or a rename over the file changes it. */
function stampOf(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * Throws when the client certificate and key do not make a pair (or a PEM does not parse), or the
 * certificate is expired: a replacement the agent would refuse is worse than the one in force.
 */
function checkUsable(m: TlsMaterial, o: AgentTlsOptions): void {
  const tls: typeof import('node:tls') = require('node:tls');
  tls.createSecureContext({ ca: m.ca, cert: m.cert, key: m.key });
  const dates = o.clientCert && certificateNotValidNow(o.clientCert);
  if (dates) throw new Error(`--client-cert ${o.clientCert} ${dates}`);
}

export class TlsFiles {
  private material: TlsMaterial;
  private stamps: Map<string, string>;
  private checkedAt: number;
  private refused = '';

  /** Reads the files now: a bad file at start is an input error naming the flag (as loadTlsMaterial). */
  constructor(
    private readonly o: AgentTlsOptions,
    private readonly log: (m: string) => void,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {
    this.material = loadTlsMaterial(o);
    this.stamps = this.stampAll();
    this.checkedAt = now();
  }

  /** The material in force. */
  public get current(): TlsMaterial {
    return this.material;
  }

  private stampAll(): Map<string, string> {
    return new Map(watched(this.o).map(([flag, file]) => [`${flag} ${file}`, stampOf(file)]));
  }

  /**
   * The new material when a file changed since the last read and the new files are usable;
   * undefined otherwise. Looks at most once per interval unless `force` (after a TLS failure).
   */
  public reload(force = false): TlsMaterial | undefined {
    if (!force && this.now() - this.checkedAt < this.intervalMs) return undefined;
    this.checkedAt = this.now();
    const next = this.stampAll();
    const names = new Set([...next.keys(), ...this.stamps.keys()]);
    const changed = [...names].filter((n) => next.get(n) !== this.stamps.get(n));
    if (!changed.length) return undefined;
    let m: TlsMaterial;
    try {
      m = loadTlsMaterial(this.o);
      checkUsable(m, this.o);
    } catch (e) {
      // Once per state of the files: a half-written pair is retried quietly until it changes again.
      const key = JSON.stringify([...next]);
      const why = (e as Error).message;
      if (key !== this.refused) this.log(`TLS files changed (${changed.join(', ')}) but cannot be used yet, keeping the ones read before: ${why}`);
      this.refused = key;
      return undefined;
    }
    this.stamps = next;
    this.material = m;
    this.refused = '';
    this.log(`TLS files changed on disk, read again: ${changed.join(', ')}`);
    return m;
  }
}

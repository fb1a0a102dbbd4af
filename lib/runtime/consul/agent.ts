// A small client for the local Consul agent's HTTP(S) API; the transport is http.ts (node:http and
// node:https: fetch takes no CA, client certificate or TLS server name, and costs the helper RSS).
import { AgentTlsOptions, explainTlsError, tlsCliEnv } from './tls';
import { TlsFiles } from './tls-files';
import { isNodeName } from '../../manifest/names';
import { whyFailed } from '../errors';
import { agentErrorKind, AgentErrorKind } from '../metrics/recorder';
import { HttpClient } from './http';

/** An agent answer with a non-2xx status. */
export class ConsulError extends Error {
  constructor(public readonly status: number, public readonly path: string, body: string) {
    super(`Consul agent answered ${status} to ${path}${status === 403 ? ' (permission denied: check the token)' : ''}: ${body.trim().slice(0, 300)}`);
    this.name = 'ConsulError';
  }
}

export interface ConsulAgentOptions {
  /** `http://host:port`, `https://…`, or `host:port` (as CONSUL_HTTP_ADDR). */
  readonly address: string;
  /** Use https for an address without a scheme (CONSUL_HTTP_SSL=true). @default false */
  readonly ssl?: boolean;
  /** ACL token, sent as X-Consul-Token; never logged. */
  readonly token?: string;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number;
  /** CA, client certificate, server name for an https agent (read here, and again when the files change). */
  readonly tls?: AgentTlsOptions;
  /** Where to say that the TLS files were read again. @default nowhere */
  readonly log?: (message: string) => void;
}

/** The sidecar registration as the agent reports it. */
export interface SidecarRegistration {
  readonly Port: number;
  readonly Address: string;
  readonly Proxy: { readonly Upstreams?: Array<{ DestinationName: string; LocalBindAddress?: string; LocalBindPort: number }> };
}

/** One answer of the agent; `index` is X-Consul-Index (0 when absent). */
export interface AgentAnswer {
  readonly status: number;
  readonly text: string;
  readonly index?: number;
  /** X-Consul-ContentHash, the index of hash-based blocking queries (agent endpoints). */
  readonly hash?: string;
}

export type CheckStatus = 'passing' | 'warning' | 'critical';

/** One request's overrides: `token` (null: none), `renew: false` skips the renewal on 403, its own timeout, an abort. */
export interface RequestOptions {
  readonly token?: string | null;
  readonly renew?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Normalises CONSUL_HTTP_ADDR-style addresses to a base URL. */
export function agentBaseUrl(address: string, ssl = false): string {
  if (address.startsWith('unix://')) throw new Error(`unix socket agent addresses are not supported: ${address}`);
  const withScheme = /^https?:\/\//.test(address) ? address : `${ssl ? 'https' : 'http'}://${address}`;
  const url = new URL(withScheme);
  return url.origin;
}

/** How often the TLS files are looked at between requests. */
const TLS_LOOK_MS = 10_000;

export class ConsulAgent {
  public readonly baseUrl: string;
  private http: HttpClient;
  private readonly timeoutMs: number;
  private token?: string;
  private renew?: () => Promise<string>;
  private renewing?: Promise<boolean>;
  private failed?: (kind: AgentErrorKind) => void;

  private readonly tls: AgentTlsOptions;
  private readonly secure: boolean;
  private readonly tlsFiles?: TlsFiles;
  private readonly tlsReloaded: Array<() => void> = [];
  private readonly tlsTimer?: NodeJS.Timeout;

  constructor(options: ConsulAgentOptions) {
    this.baseUrl = agentBaseUrl(options.address, options.ssl);
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.token = options.token;
    this.tls = options.tls ?? {};
    this.secure = this.baseUrl.startsWith('https:');
    this.tlsFiles = this.secure ? new TlsFiles(this.tls, options.log ?? (() => undefined)) : undefined;
    this.http = new HttpClient(this.baseUrl, this.tlsFiles?.current ?? {});
    // Also between requests (blocking queries last minutes): the proxy must hear of new files.
    if (this.tlsFiles) this.tlsTimer = setInterval(() => this.freshTls(false), TLS_LOOK_MS).unref();
  }

  /** Called after the TLS files were read again (the proxy child read them at its start only). */
  public onTlsReloaded(then: () => void): void {
    this.tlsReloaded.push(then);
  }

  /** A new connection pool when the TLS files changed on disk (looked for at most once a second, or now). */
  private freshTls(force: boolean): boolean {
    const material = this.tlsFiles?.reload(force);
    if (!material) return false;
    const old = this.http;
    this.http = new HttpClient(this.baseUrl, material);
    old.retire();
    for (const then of this.tlsReloaded) then();
    return true;
  }

  /** Environment for a consul CLI child (the proxy) to reach this agent with the same TLS settings. */
  public cliEnv(): Record<string, string> {
    return this.secure ? tlsCliEnv(this.tls) : {};
  }

  /** Closes kept-alive connections (tests, short-lived clients). */
  public close(): void {
    clearInterval(this.tlsTimer);
    this.http.close();
  }

  /** Replaces the ACL token of later requests (a new login). */
  public setToken(token: string | undefined): void {
    this.token = token;
  }

  /**
   * What to do when the agent says the token is gone (403 "ACL not found": revoked, expired or
   * logged out): `renew` resolves with a new token (a new login), or rejects. Requests that met
   * the 403 wait for it and are sent once more; concurrent ones share one renewal.
   */
  public onTokenGone(renew: () => Promise<string>): void {
    this.renew = renew;
  }

  /** Called with the kind of each failed request: no answer, or an error status other than 404 (which says "none"). */
  public onRequestError(then: (kind: AgentErrorKind) => void): void {
    this.failed = then;
  }

  /**
   * One request; `body` is sent as JSON, or as is when it is a string and `raw` is set.
   * `opts.token` overrides the agent's token (null: none); `opts.renew: false` skips the renewal on 403.
   */
  public async request(method: string, path: string, body?: unknown, raw = false, opts: RequestOptions = {}): Promise<AgentAnswer> {
    const token = opts.token === null ? undefined : opts.token ?? this.token;
    const r = await this.send(method, path, body, raw, token, opts);
    if (r.status !== 403 || opts.token !== undefined || opts.renew === false || !this.renew || !/ACL not found/i.test(r.text)) return r;
    // Renewed meanwhile by another request: just send again with the new token.
    if (this.token !== token) return this.send(method, path, body, raw, this.token, opts);
    if (!this.renewing) {
      this.renewing = this.renew().then(
        (t) => {
          this.token = t;
          return true;
        },
        () => false,
      );
      void this.renewing.finally(() => (this.renewing = undefined));
    }
    if (!(await this.renewing)) return r;
    return this.send(method, path, body, raw, this.token, opts);
  }

  private async send(method: string, path: string, body: unknown, raw: boolean, token?: string, o: RequestOptions = {}): Promise<AgentAnswer> {
    const headers: Record<string, string> = {};
    if (token) headers['X-Consul-Token'] = token;
    if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
    const payload = body === undefined ? undefined : raw ? String(body) : JSON.stringify(body);
    this.freshTls(false);
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.http.request(method, path, headers, payload, o.timeoutMs ?? this.timeoutMs, o.signal);
        if (res.status >= 400 && res.status !== 404) this.failed?.(agentErrorKind({ status: res.status }));
        const hash = res.headers['x-consul-contenthash'];
        const index = Number(res.headers['x-consul-index'] ?? 0);
        return { status: res.status, text: res.text, index, ...(typeof hash === 'string' ? { hash } : {}) };
      } catch (err) {
        // Same shape as fetch's errors (callers read e.cause.message), with the TLS setting named.
        const e = err as NodeJS.ErrnoException;
        if (e.name === 'AbortError') throw e; // a stop, not a failure of the agent
        const why = this.secure ? explainTlsError(e, this.tls) : undefined;
        // A TLS failure may be fixed on disk already (a renewed certificate): once more with the files read again.
        if (why && attempt === 1 && this.freshTls(true)) continue;
        this.failed?.(agentErrorKind({ code: e.code, tls: why !== undefined }));
        const cause = why ? Object.assign(new Error(why), { code: e.code }) : e;
        throw Object.assign(new Error(`request to ${this.baseUrl}${path} failed`), { cause });
      }
    }
  }

  private async ok(method: string, path: string, body?: unknown): Promise<string> {
    const r = await this.request(method, path, body);
    if (r.status < 200 || r.status > 299) throw new ConsulError(r.status, path, r.text);
    return r.text;
  }

  /** GET /v1/agent/self: the agent's name and version. */
  public async self(): Promise<{ nodeName: string; version: string }> {
    const j = JSON.parse(await this.ok('GET', '/v1/agent/self'));
    return { nodeName: j.Config?.NodeName ?? '', version: j.Config?.Version ?? '' };
  }

  /** Registers (or replaces) a service, with its checks replaced too. */
  public async registerService(definition: unknown): Promise<void> {
    await this.ok('PUT', '/v1/agent/service/register?replace-existing-checks=true', definition);
  }

  /** Deregisters a service; its sidecar goes with it. A missing service is not an error. */
  public async deregisterService(id: string): Promise<void> {
    await this.ok('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  }

  /** GET /v1/agent/service/:id, or undefined when the agent does not know it. */
  public async service<T = SidecarRegistration>(id: string): Promise<T | undefined> {
    const r = await this.request('GET', `/v1/agent/service/${encodeURIComponent(id)}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new ConsulError(r.status, `/v1/agent/service/${id}`, r.text);
    return JSON.parse(r.text) as T;
  }

  /**
   * A hash-based blocking query on the agent's own registration of a service: answers when the
   * definition changes past `hash`, after `waitS`, or at once without a hash. `present` false
   * when the agent does not know the service (it restarted without its state, or reaped it).
   */
  public async serviceWatch(id: string, hash: string, waitS: number, signal?: AbortSignal): Promise<{ present: boolean; hash: string }> {
    const path = `/v1/agent/service/${encodeURIComponent(id)}${hash ? `?hash=${encodeURIComponent(hash)}&wait=${waitS}s` : ''}`;
    const r = await this.request('GET', path, undefined, false, { timeoutMs: Math.ceil((waitS + waitS / 16 + 10) * 1000), signal });
    if (r.status === 404) return { present: false, hash: '' };
    if (r.status !== 200) throw new ConsulError(r.status, path, r.text);
    return { present: true, hash: r.hash ?? '' };
  }

  /** Registers (or replaces) one check, here one of a registered service (its ServiceID). */
  public async registerCheck(definition: unknown): Promise<void> {
    await this.ok('PUT', '/v1/agent/check/register', definition);
  }

  /** Sets a TTL check's status. */
  public async updateTtl(checkId: string, status: CheckStatus, output: string): Promise<void> {
    await this.ok('PUT', `/v1/agent/check/update/${encodeURIComponent(checkId)}`, { Status: status, Output: output });
  }

  /** Aggregated local health of a service: passing, warning, critical, or undefined if unknown. */
  public async serviceHealth(id: string): Promise<string | undefined> {
    const r = await this.request('GET', `/v1/agent/health/service/id/${encodeURIComponent(id)}?format=text`);
    if (r.status === 404) return undefined;
    return r.text.trim();
  }

  /** Raw value of a KV key, or undefined when missing. */
  public async kvGet(key: string): Promise<string | undefined> {
    const r = await this.request('GET', `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}?raw`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new ConsulError(r.status, `/v1/kv/${key}`, r.text);
    return r.text;
  }

  /**
   * A blocking query on one KV key (the manifest watch): answers when the key changes past
   * `index` or after `waitS`; `value` undefined when the key is missing.
   */
  public async kvWatch(key: string, index: number, waitS: number, signal?: AbortSignal): Promise<{ index: number; value?: string }> {
    const path = `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}?raw&index=${index}&wait=${waitS}s`;
    const r = await this.request('GET', path, undefined, false, { timeoutMs: Math.ceil((waitS + waitS / 16 + 10) * 1000), signal });
    if (r.status !== 200 && r.status !== 404) throw new ConsulError(r.status, path, r.text);
    return { index: r.index ?? 0, value: r.status === 200 ? r.text : undefined };
  }

  /**
   * A blocking query on the instances of `service` in `mesh` whose sidecar is passing (catalog-wide,
   * as the node's token may read them): the node names in their `erlang_node` meta, once each. The
   * sidecars, not the services: a replica's prepared query returns its sidecar, whose alias check
   * follows the service's a moment later; watching the services would route a member the query
   * does not find yet. A sidecar's meta is its service's (Consul copies it).
   */
  public async passingMembers(
    service: string,
    mesh: string,
    index: number,
    waitS: number,
    signal?: AbortSignal,
  ): Promise<{ index: number; nodes: string[] }> {
    const filter = encodeURIComponent(`Service.Meta.meshx_mesh == "${mesh}"`);
    const path = `/v1/health/connect/${encodeURIComponent(service)}?passing&filter=${filter}&index=${index}&wait=${waitS}s`;
    const r = await this.request('GET', path, undefined, false, { timeoutMs: Math.ceil((waitS + waitS / 16 + 10) * 1000), signal });
    if (r.status !== 200) throw new ConsulError(r.status, path, r.text);
    const entries = JSON.parse(r.text) as Array<{ Service?: { Meta?: Record<string, string> } }>;
    // Only valid node names: a malformed meta would make a bad host-map line and query name.
    const nodes = new Set(entries.map((e) => e.Service?.Meta?.erlang_node).filter((n): n is string => typeof n === 'string' && isNodeName(n)));
    return { index: r.index ?? 0, nodes: [...nodes].sort() };
  }

  /** Writes a raw KV value. */
  public async kvPut(key: string, value: string): Promise<void> {
    const path = `/v1/kv/${key.split('/').map(encodeURIComponent).join('/')}`;
    const r = await this.request('PUT', path, value, true);
    if (r.status !== 200) throw new ConsulError(r.status, path, r.text);
  }

  /**
   * Retries /v1/agent/self with exponential backoff until it answers or the deadline passes.
   * Permission errors are final (retrying will not fix a token).
   */
  public async waitReachable(deadlineMs: number, log: (m: string) => void): Promise<{ nodeName: string; version: string }> {
    const until = Date.now() + deadlineMs;
    let delay = 200;
    let lastError = '';
    let logged = '';
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.self();
      } catch (e) {
        if (e instanceof ConsulError && e.status === 403) return { nodeName: '', version: '' }; // reachable; self needs agent:read
        lastError = whyFailed(e);
      }
      const left = until - Date.now();
      if (left <= 0) {
        const within = `within ${Math.round(deadlineMs / 1000)}s (${attempt} attempts)`;
        throw new Error(`cannot reach the Consul agent at ${this.baseUrl} ${within}: ${lastError}`);
      }
      // The first failure, every fifth, and a new reason at once (an operator fixing files sees the next one).
      if (attempt === 1 || attempt % 5 === 0 || lastError !== logged) log(`waiting for the Consul agent at ${this.baseUrl}: ${(logged = lastError)}`);
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

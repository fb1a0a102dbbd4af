// One HTTP(S) request over node:http/node:https with a keep-alive agent. Not the built-in fetch:
// fetch loads undici (~12 MB more RSS in the helper, and a few ms of CPU per TTL heartbeat).
import * as http from 'node:http';
import type * as httpsTypes from 'node:https';

/** node:https (and tls, crypto) only for an https agent: a plain http helper stays smaller. */
const https = (): typeof httpsTypes => require('node:https');

/** TLS settings for an https base URL (what tls.ts reads from Consul's CLI settings). */
export interface HttpTlsOptions {
  /** PEM CA bundle(s) to verify the server with; the system store when absent. */
  readonly ca?: string | string[];
  /** PEM client certificate and key (for a server with verify_incoming). */
  readonly cert?: string;
  readonly key?: string;
  /** Name to verify the server's certificate against and send as SNI (Node checks the servername when given). */
  readonly servername?: string;
  /** @default true */
  readonly rejectUnauthorized?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly text: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** A client for one base URL: one keep-alive connection pool, one TLS configuration. */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly secure: boolean;
  private inFlight = 0;
  private retired = false;

  constructor(public readonly baseUrl: string, tls: HttpTlsOptions = {}) {
    this.secure = baseUrl.startsWith('https:');
    this.agent = this.secure
      ? new (https().Agent)({
          keepAlive: true,
          maxSockets: 8,
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: tls.servername,
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** Sends one request; rejects on a network error, when no answer came within timeoutMs, or on `signal`. */
  public request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const send = this.secure ? https().request : http.request;
    const withLength = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = send(this.baseUrl + path, { method, headers: withLength, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      const abort = () => req.destroy(Object.assign(new Error('request aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      if (signal?.aborted) abort();
      signal?.addEventListener('abort', abort, { once: true });
      req.on('error', reject);
      this.inFlight++;
      req.on('close', () => {
        if (--this.inFlight === 0 && this.retired) this.agent.destroy();
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
      });
      req.end(body);
    });
  }

  /**
   * No new requests (a client with new TLS files replaces this one): idle connections close now,
   * the ones carrying a request (a blocking query) when it ends.
   */
  public retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.agent.destroy();
    else for (const sockets of Object.values(this.agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  }

  /** Closes the idle keep-alive connections (so nothing holds the process open). */
  public close(): void {
    this.agent.destroy();
  }
}

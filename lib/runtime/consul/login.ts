// ACL auth-method login (Consul 1.8+: POST /v1/acl/login, /v1/acl/logout): the node's token is
// made from a bearer JWT at boot and destroyed at stop. The JWT and the token's secret are never
// logged, never put on a command line, and only written to the 0600 token file in the state dir.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { ConsulAgent } from './agent';
import { InputError, RuntimeFailure, whyFailed } from '../errors';
import { Logger } from '../log';

export interface AclLoginOptions {
  readonly agent: ConsulAgent;
  /** Name of the auth method (--login-method). */
  readonly method: string;
  /** File holding the bearer JWT (--bearer-token-file); read again at every login (rotation). */
  readonly bearerTokenFile: string;
  /** The Erlang node name, for the token's description (login Meta). */
  readonly node: string;
  readonly log: Logger;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Reads and checks the bearer token file: readable, not empty, shaped like a JWT (three base64url
 * parts, a JSON header with `alg`). Bad input is an InputError (exit 2) naming the flag; the
 * token's content is never part of a message.
 */
export function readBearerToken(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`--bearer-token-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const jwt = text.trim();
  if (jwt === '') throw new InputError(`--bearer-token-file: ${file} is empty`);
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) {
    throw new InputError(`--bearer-token-file: ${file} does not hold a JWT (header.payload.signature, base64url)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  } catch {
    throw new InputError(`--bearer-token-file: ${file} does not hold a JWT (its header is not JSON)`);
  }
  if (typeof header !== 'object' || header === null || typeof (header as { alg?: unknown }).alg !== 'string') {
    throw new InputError(`--bearer-token-file: ${file} does not hold a JWT (its header has no 'alg')`);
  }
  return jwt;
}

/** Says why the agent refused a login, in terms of what the operator can fix. */
export function loginRefusal(method: string, status: number, body: string): string {
  const text = body.trim().slice(0, 300);
  const why = (() => {
    if (/token is expired|\(exp\)/i.test(text)) return 'the JWT has expired (exp): mint a new one';
    if (/not valid yet|\(nbf\)|\(iat\)/i.test(text)) {
      return 'the JWT is not valid yet (nbf): check the clocks, and that it carries iat or nbf (Consul 1.8.7 refuses a JWT with neither this way)';
    }
    if (/no known key|signature/i.test(text)) return 'the JWT is not signed by a key the auth method trusts (a JWT of another issuer?)';
    if (/aud claim|audience/i.test(text)) return "the JWT's audience (aud) is not one the auth method accepts";
    if (/issuer|\(iss\)/i.test(text)) return "the JWT's issuer (iss) is not the auth method's";
    if (/error parsing token|malformed|invalid character/i.test(text)) return 'the agent cannot parse the JWT';
    if (/auth method .*not found|ACL not found/i.test(text)) return `the auth method '${method}' does not exist (--login-method)`;
    if (status === 403 && /permission denied/i.test(text)) {
      const why = 'its service claim names no node of this mesh (a JWT for another node?)';
      return `the JWT is valid, but no binding rule of '${method}' matches it: ${why}`;
    }
    if (/ACL support disabled|ACLs? (are )?disabled/i.test(text)) return 'the agent has ACLs disabled: run without --login-method';
    return 'refused';
  })();
  return `login to auth method '${method}' refused: ${why} (agent answered ${status}: ${text})`;
}

/** A login's token: made at boot, renewed when the agent says it is gone, destroyed at stop. */
export class AclLogin {
  private secret?: string;
  private accessor?: string;
  private stopped = false;

  constructor(private readonly o: AclLoginOptions) {}

  /** The current token's secret (for the token file); undefined when not logged in. */
  public get token(): string | undefined {
    return this.secret;
  }

  public get loggedIn(): boolean {
    return this.secret !== undefined;
  }

  /**
   * Logs in once (no-op when logged in) and gives the token's secret; a refusal is a
   * RuntimeFailure (exit 1), bad input an InputError (exit 2).
   */
  public async login(): Promise<string> {
    return this.secret ?? this.attempt();
  }

  private async attempt(): Promise<string> {
    const { agent, method } = this.o;
    const bearer = readBearerToken(this.o.bearerTokenFile);
    let r: { status: number; text: string };
    try {
      const body = { AuthMethod: method, BearerToken: bearer, Meta: { meshx_node: this.o.node, host: os.hostname() } };
      r = await agent.request('POST', '/v1/acl/login', body, false, { token: null });
    } catch (e) {
      throw new RuntimeFailure(`login to auth method '${method}' failed: ${whyFailed(e)}`);
    }
    if (r.status !== 200) throw new RuntimeFailure(loginRefusal(method, r.status, r.text));
    const tok = JSON.parse(r.text) as { SecretID?: string; AccessorID?: string };
    if (!tok.SecretID) throw new RuntimeFailure(`login to auth method '${method}': the agent answered no token`);
    this.secret = tok.SecretID;
    this.accessor = tok.AccessorID;
    agent.setToken(tok.SecretID);
    this.o.log(`logged in to auth method '${method}' (token accessor ${tok.AccessorID})`);
    return tok.SecretID;
  }

  /**
   * Logs in again after the agent lost the token (revoked, expired), re-reading the bearer token
   * file (the issuer may have rotated it), with backoff, for at most `deadlineMs`.
   */
  public async renew(deadlineMs: number): Promise<string> {
    const until = Date.now() + deadlineMs;
    this.o.log(`the agent no longer knows token ${this.accessor}; logging in again`);
    this.secret = undefined;
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new RuntimeFailure('stopping: no new login');
      try {
        return await this.attempt();
      } catch (e) {
        const left = until - Date.now();
        if (left <= 0) {
          this.o.log(`login again failed (${attempt} attempts): ${(e as Error).message}`);
          throw e;
        }
        if (attempt === 1 || attempt % 5 === 0) this.o.log(`login again failed, retrying: ${(e as Error).message}`);
        await new Promise((res) => setTimeout(res, Math.min(delay, left)));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /** Destroys the token (POST /v1/acl/logout); no more renewals. A token already gone is fine. */
  public async logout(): Promise<void> {
    this.stopped = true;
    const secret = this.secret;
    if (!secret) return;
    this.secret = undefined;
    try {
      const r = await this.o.agent.request('POST', '/v1/acl/logout', undefined, false, { token: secret });
      if (r.status === 200) this.o.log(`logged out (token accessor ${this.accessor} destroyed)`);
      else if (/ACL not found/i.test(r.text)) this.o.log(`token accessor ${this.accessor} was already gone`);
      else this.o.log(`logout failed: agent answered ${r.status}: ${r.text.trim().slice(0, 200)}; token accessor ${this.accessor} may be left`);
    } catch (e) {
      this.o.log(`logout failed: ${(e as Error).message}; token accessor ${this.accessor} may be left`);
    }
    this.o.agent.setToken(undefined);
  }
}

import { AclLogin } from '../consul/login';
import { RunOptions } from '../run-options';
import { BootStep, made, TokenSource } from './boot-step';

/** How long one renewal (a new login after the agent lost the token) may retry. */
export const RENEW_DEADLINE_MS = 60_000;

/**
 * With --login-method: the node's token from an auth-method login, early in the boot so that it
 * is undone last (logout after the deregistration). The token goes to the proxy through a 0600
 * file in the state dir, removed at stop. When the agent says the token is gone (revoked,
 * expired), every request waits for a new login (the bearer token file read again); then the
 * steps that hold the old token (the proxy's) take the new one.
 */
export class LoginStep implements BootStep, TokenSource {
  public readonly name = 'login';
  private file?: string;
  private stopping = false;
  private readonly renewed: Array<() => Promise<void>> = [];

  constructor(private readonly o: Pick<RunOptions, 'agent' | 'stateDir' | 'metrics'>, private readonly login: AclLogin) {}

  /** The token file in the state dir, for the proxy's -token-file. */
  public get tokenFile(): string {
    return made(this.file, this.name);
  }

  public onRenewed(then: () => Promise<void>): void {
    this.renewed.push(then);
  }

  public async start(): Promise<void> {
    const { o, login } = this;
    // Done already when the manifest came from KV.
    o.stateDir.writeToken(await login.login());
    this.file = o.stateDir.tokenPath;
    o.agent.onTokenGone(async () => {
      const secret = await login.renew(RENEW_DEADLINE_MS).catch((e: unknown) => {
        o.metrics?.loginRenewal('failed');
        throw e;
      });
      o.metrics?.loginRenewal('ok');
      o.stateDir.writeToken(secret);
      // After the renewal settles: these requests use the new token.
      setImmediate(() => this.afterRenewal());
      return secret;
    });
  }

  public preStop(): void {
    this.stopping = true;
  }

  public async stop(): Promise<void> {
    this.stopping = true;
    await this.login.logout();
    this.o.stateDir.removeToken();
  }

  private afterRenewal(): void {
    if (this.stopping) return;
    // Each handler logs its own failure.
    for (const then of this.renewed) void then();
  }
}

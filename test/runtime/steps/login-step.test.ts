import * as fs from 'node:fs';
import { AclLogin } from '../../../lib/runtime/consul/login';
import { LoginStep, RENEW_DEADLINE_MS } from '../../../lib/runtime/steps/login-step';
import { runOptions } from '../../fixtures/run-options';

/** A login that hands out s1, then s2, s3 … on each renewal; an agent that keeps the renewal handler. */
function setup() {
  const calls: string[] = [];
  let n = 1;
  const login = {
    login: async () => (calls.push('login'), 's1'),
    renew: async (deadlineMs: number) => (calls.push(`renew ${deadlineMs}`), `s${++n}`),
    logout: async () => void calls.push('logout'),
  } as unknown as AclLogin;
  const agent = { renew: undefined as undefined | (() => Promise<string>), onTokenGone: (renew: () => Promise<string>) => (agent.renew = renew) };
  const o = runOptions({ agent });
  o.stateDir.create();
  o.stateDir.lock();
  const step = new LoginStep(o, login);
  const read = () => fs.readFileSync(o.stateDir.tokenPath, 'utf8');
  /** What a request that met "ACL not found" does: waits for the renewal. */
  const tokenGone = () => agent.renew!();
  return { o, step, calls, read, tokenGone };
}

const nextTick = () => new Promise((r) => setImmediate(r));

describe('login step', () => {
  test("logs in, writes the token to a 0600 file in the state dir for the proxy; stop logs out and removes it", async () => {
    const { o, step, calls, read } = setup();
    expect(() => step.tokenFile).toThrow(/'login' has not started/);
    await step.start();
    expect(step.tokenFile).toBe(o.stateDir.tokenPath);
    expect(read()).toBe('s1\n');
    expect(fs.statSync(step.tokenFile).mode & 0o777).toBe(0o600);
    await step.stop();
    expect(calls).toEqual(['login', 'logout']);
    expect(fs.existsSync(o.stateDir.tokenPath)).toBe(false);
    o.stateDir.remove();
  });

  test('a token the agent lost: logged in again (bounded), the file rewritten, then the steps that hold the token are told', async () => {
    const { o, step, calls, read, tokenGone } = setup();
    const told: string[] = [];
    step.onRenewed(async () => void told.push(read()));
    await step.start();
    expect(await tokenGone()).toBe('s2');
    expect(read()).toBe('s2\n');
    // Told after the renewal settled (the requests waiting for it go first), with the new file in place.
    expect(told).toEqual([]);
    await nextTick();
    expect(told).toEqual(['s2\n']);
    expect(calls).toEqual(['login', `renew ${RENEW_DEADLINE_MS}`]);
    await step.stop();
    o.stateDir.remove();
  });

  test('a renewal that settles while the node stops tells no one', async () => {
    const { o, step, tokenGone } = setup();
    const told: string[] = [];
    step.onRenewed(async () => void told.push('renewed'));
    await step.start();
    const renewing = tokenGone();
    step.preStop();
    await renewing;
    await nextTick();
    expect(told).toEqual([]);
    await step.stop();
    o.stateDir.remove();
  });

  test('each renewal is counted by its outcome (metrics)', async () => {
    const { o, step, tokenGone } = setup();
    const seen: string[] = [];
    (o as { metrics?: unknown }).metrics = { loginRenewal: (outcome: string) => seen.push(outcome) };
    await step.start();
    await tokenGone();
    expect(seen).toEqual(['ok']);
    await step.stop();
    o.stateDir.remove();
  });

  test('a renewal that fails is counted as failed, and still fails', async () => {
    const seen: string[] = [];
    const renew = async () => Promise.reject(new Error('refused'));
    const login = { login: async () => 's1', renew, logout: async () => undefined } as unknown as AclLogin;
    const agent = { renew: undefined as undefined | (() => Promise<string>), onTokenGone: (renew: () => Promise<string>) => (agent.renew = renew) };
    const o = runOptions({ agent });
    (o as { metrics?: unknown }).metrics = { loginRenewal: (outcome: string) => seen.push(outcome) };
    o.stateDir.create();
    o.stateDir.lock();
    const step = new LoginStep(o, login);
    await step.start();
    await expect(agent.renew!()).rejects.toThrow('refused');
    expect(seen).toEqual(['failed']);
    await step.stop();
    o.stateDir.remove();
  });
});

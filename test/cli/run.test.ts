import { cli } from '../fixtures/cli';

// Everything `run` refuses before reaching the agent (the agent-side cases run against a real
// agent in test/integration/cli.test.ts).
describe('meshx-node run: refused before anything starts', () => {
  test.each([
    ['a missing --', ['run', '--manifest', 'm.json', 'erl'], 'put the BEAM command after --: meshx-node run ... -- erl'],
    ['no manifest source', ['run', '--', 'sh'], 'give the manifest with one of --manifest FILE, --from CDKTF_OUT --node NAME, or --kv KEY'],
    ['a unix socket agent address', ['run', '--kv', 'k', '--consul-addr', 'unix:///x.sock', '--', 'sh'], '--consul-addr: unix socket agent addresses are not supported: unix:///x.sock'],
    ['a bad stop timeout', ['run', '--kv', 'k', '--stop-timeout', '-1', '--', 'sh'], "--stop-timeout must be a positive number of seconds, got '-1'"],
  ])('%s: exit 2', async (_d, args, message) => {
    const r = await cli(args, { PATH: process.env.PATH });
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
  });
});

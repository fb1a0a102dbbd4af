import { cli } from '../fixtures/cli';

describe('meshx-node main', () => {
  test('--version and --help exit 0; the four commands are listed', async () => {
    expect((await cli(['--version'])).out.trim()).toBe(require('../../package.json').version);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['run', 'manifest', 'env', 'graph']) expect(help.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });

  test('usage errors exit 2; other errors print "meshx-node: <message>"', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    const r = await cli(['env', '--state-dir', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("meshx-node: no state.json in /nonexistent: is 'meshx-node run' running with this --state-dir?\n");
  });
});

import { createLogger } from '../../lib/runtime/log';

describe('logger', () => {
  test('logger prefixes every line with [node][part]', () => {
    const out: string[] = [];
    createLogger('a@h', 'helper', (l) => out.push(l))('one\ntwo');
    expect(out).toEqual(['[a@h][helper] one\n', '[a@h][helper] two\n']);
  });
});

import { createLogger } from '../../lib/runtime/log';

describe('logger', () => {
  test('logger prefixes every line with [node][part]', () => {
    const out: string[] = [];
    createLogger('a@h', 'helper', (l) => out.push(l))('one\ntwo');
    expect(out).toEqual(['[a@h][helper] one\n', '[a@h][helper] two\n']);
  });

  test('text ignores fields; json writes one object per message, fields included', () => {
    const text: string[] = [];
    createLogger('a@h', 'proxy', (l) => text.push(l), 'text')('x', { stream: 'stderr' });
    expect(text).toEqual(['[a@h][proxy] x\n']);
    const json: string[] = [];
    createLogger('a@h', 'proxy', (l) => json.push(l), 'json')('one\ntwo', { stream: 'stderr' });
    expect(json).toHaveLength(1);
    expect(json[0].endsWith('}\n')).toBe(true);
    expect(json[0].slice(0, -1)).not.toContain('\n');
    const o = JSON.parse(json[0]);
    expect(o).toMatchObject({ level: 'info', node: 'a@h', source: 'proxy', message: 'one\ntwo', fields: { stream: 'stderr' } });
  });
});

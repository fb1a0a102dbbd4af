import { PassThrough } from 'node:stream';
import { eachLine } from '../../lib/runtime/lines';

/** The lines eachLine reports for these chunks written in turn, then the end of the stream. */
function linesOf(chunks: Array<string | Buffer>): Promise<string[]> {
  const stream = new PassThrough();
  const got: string[] = [];
  eachLine(stream, (l) => got.push(l));
  return new Promise((resolve) => {
    stream.on('end', () => resolve(got));
    for (const c of chunks) stream.write(c);
    stream.end();
  });
}

describe('eachLine', () => {
  test('joins lines split across chunks, keeps empty lines, drops \\n and \\r\\n', async () => {
    expect(await linesOf(['one\ntw', 'o\r\n\nthr', 'ee\n'])).toEqual(['one', 'two', '', 'three']);
  });

  test('reports an unterminated last line at the end, and nothing for an empty stream', async () => {
    expect(await linesOf(['a\nlast'])).toEqual(['a', 'last']);
    expect(await linesOf([])).toEqual([]);
  });

  test('decodes a UTF-8 character split between chunks', async () => {
    const bytes = Buffer.from('größe ✓\n');
    expect(await linesOf([bytes.subarray(0, 3), bytes.subarray(3, 10), bytes.subarray(10)])).toEqual(['größe ✓']);
  });
});

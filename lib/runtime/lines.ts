import type { Readable } from 'node:stream';

/**
 * Calls `each` with every line of a text stream (UTF-8), without its `\n` or `\r\n`, and with the
 * last line when the stream ends unterminated. What readline.createInterface did for the proxy's
 * output, without loading readline (0.4 MB of the helper's RSS).
 */
export function eachLine(stream: Readable, each: (line: string) => void): void {
  let rest = '';
  const emit = (line: string) => each(line.endsWith('\r') ? line.slice(0, -1) : line);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    lines.forEach(emit);
  });
  stream.on('end', () => {
    if (rest) emit(rest);
    rest = '';
  });
}

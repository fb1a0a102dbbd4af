/** A line logger with the `[<node>][<part>]` prefix operators grep for. Writes to stderr. */
export type Logger = (message: string) => void;

export function createLogger(node: string, part: string, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  return (message) => {
    for (const line of message.split('\n')) write(`[${node}][${part}] ${line}\n`);
  };
}

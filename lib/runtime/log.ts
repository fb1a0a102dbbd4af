import { jsonLogLine } from './log-json';

/** Structured values a log line carries besides its message (json format only). */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** A line logger; what it writes depends on the format it was made for. */
export type Logger = (message: string, fields?: LogFields) => void;

/** `text`: `[<node>][<part>] message` per line, as operators grep for; `json`: one object per message. */
export type LogFormat = 'text' | 'json';

/** A logger for one part of one node (`helper`, `proxy`). Writes to stderr. */
export function createLogger(
  node: string,
  part: string,
  write: (line: string) => void = (l) => process.stderr.write(l),
  format: LogFormat = 'text',
): Logger {
  if (format === 'json') return (message, fields) => write(jsonLogLine(new Date(), node, part, message, fields));
  return (message) => {
    for (const line of message.split('\n')) write(`[${node}][${part}] ${line}\n`);
  };
}

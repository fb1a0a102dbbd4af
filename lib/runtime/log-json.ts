// The json log format (--log-format json): one object per message, for a log shipper to parse
// rather than a prefix to grep.
import type { LogFields } from './log';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A proxy's own level marker: Envoy's `[info]`, Consul's `[INFO]` / `[WARN]` / `[ERROR]`. */
const PROXY_LEVEL = /\[(trace|debug|info|warn|warning|error|err|critical)\]/i;
const PROXY_LEVELS: Record<string, LogLevel> = {
  trace: 'debug', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error', err: 'error', critical: 'error',
};
// The helper's messages say what went wrong in words (they were written for people): infer the level.
const HELPER_ERROR = /\bfailed\b|\bcannot\b|\bnot applied\b|\bnot ready\b|; exit [1-9]/;
const HELPER_WARN = /^warning: |\brefused\b|\bnot passing\b|^health critical|\brestarting\b|\bno longer\b|\bretrying\b/;

/** The level of a message: the proxy's own marker, else inferred from the helper's wording. */
export function levelOf(part: string, message: string): LogLevel {
  if (part === 'proxy') {
    const m = PROXY_LEVEL.exec(message);
    return m ? PROXY_LEVELS[m[1].toLowerCase()] : 'info';
  }
  if (HELPER_ERROR.test(message)) return 'error';
  if (HELPER_WARN.test(message)) return 'warn';
  return 'info';
}

/** One JSON object and a newline: time (ISO 8601, UTC), level (inferred unless given), node, source, message, fields. */
export function jsonLogLine(time: Date, node: string, source: string, message: string, fields: LogFields = {}, level?: LogLevel): string {
  return `${JSON.stringify({ time: time.toISOString(), level: level ?? levelOf(source, message), node, source, message, fields })}\n`;
}

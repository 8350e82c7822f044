import type { InvocationContext } from '@azure/functions';
import { noTelemetry, type Telemetry } from '../telemetry/telemetry.js';

/**
 * The one logger. Lines are `event key=value ...` so they read well in a terminal and in
 * Application Insights alike. Fields are ids, counts, statuses and timings only: never emails,
 * names, PINs, passwords, tokens, user codes or file names (docs/security.md#logs-errors-and-telemetry).
 */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const NEEDS_QUOTES = /[\s"=]/;

export function formatLogLine(event: string, fields: LogFields = {}): string {
  let line = event;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    // A number or boolean never needs quotes: no test for them (every request line has several).
    if (typeof value !== 'string') line += ` ${key}=${value}`;
    else line += ` ${key}=${NEEDS_QUOTES.test(value) || value === '' ? JSON.stringify(value) : value}`;
  }
  return line;
}

/**
 * Lines go to the invocation's log, and each event also to telemetry as a log record whose
 * attributes are the fields. Where telemetry replaces the host's log (Azure Monitor in the
 * Functions host), the line is not written twice.
 */
export function invocationLogger(context: InvocationContext, telemetry: Telemetry = noTelemetry): Logger {
  const write =
    (level: 'info' | 'warn' | 'error', line: (text: string) => void) =>
    (event: string, fields: LogFields = {}) => {
      telemetry.log(level, event, fields);
      if (!telemetry.replacesHostLog) line(formatLogLine(event, fields));
    };
  return {
    info: write('info', (text) => context.log(text)),
    warn: write('warn', (text) => context.warn(text)),
    error: write('error', (text) => context.error(text)),
  };
}

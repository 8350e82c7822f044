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

export function formatLogLine(event: string, fields: LogFields = {}): string {
  const parts = [event];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    parts.push(`${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`);
  }
  return parts.join(' ');
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

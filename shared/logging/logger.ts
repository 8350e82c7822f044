import type { InvocationContext } from '@azure/functions';

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

export function invocationLogger(context: InvocationContext): Logger {
  return {
    info: (event, fields) => context.log(formatLogLine(event, fields)),
    warn: (event, fields) => context.warn(formatLogLine(event, fields)),
    error: (event, fields) => context.error(formatLogLine(event, fields)),
  };
}

// The usage reports as the API answers them (docs/flows.md#usage-reports): the admin's report by
// user, printer or day (GET /api/reports/usage) and a person's own totals (GET /api/me/usage).
// Dates are UTC days (YYYY-MM-DD), `to` included, as the API counts them.

export type GroupBy = 'user' | 'printer' | 'day';
export const GROUP_BY: readonly GroupBy[] = ['user', 'printer', 'day'];

export interface UsageFigures {
  jobs: number;
  pages: number;
  sheets: number;
  colorPages: number;
}

export interface UsageTotals extends UsageFigures {
  /** colorPages / pages, rounded to 3 places by the API; 0 when nothing was printed. */
  colorShare: number;
}

export interface UsageRow extends UsageTotals {
  /** userId, printerId or the day. */
  key: string;
  /** Username, printer name, or the day again. */
  name: string;
}

export interface UsageReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  totals: UsageTotals;
  rows: UsageRow[];
}

export interface MyUsage {
  from: string;
  to: string;
  totals: UsageTotals;
  days: (UsageFigures & { day: string })[];
}

export interface UsageQuery {
  from: string;
  to: string;
  groupBy: GroupBy;
}

/** A UTC day as YYYY-MM-DD. */
export const utcDay = (time: Date) => time.toISOString().slice(0, 10);

/** The last `days` UTC days, today included: the report a screen opens with. */
export function lastDays(days: number, now = new Date()): { from: string; to: string } {
  return { from: utcDay(new Date(now.getTime() - (days - 1) * 86_400_000)), to: utcDay(now) };
}

/** The report's address; `csv` asks for the same figures as a file. */
export function reportPath(query: UsageQuery, csv = false): string {
  const search = new URLSearchParams({ from: query.from, to: query.to, groupBy: query.groupBy });
  if (csv) search.set('format', 'csv');
  return `/api/reports/usage?${search}`;
}

/** The file name the server gives in `Content-Disposition`, else the one it would give. */
export function csvFileName(disposition: string | null, query: UsageQuery): string {
  const named = /filename="([^"]+)"/.exec(disposition ?? '')?.[1];
  // Only a plain name is kept: the header is the server's, but a path in it is never a file name.
  return named && /^[\w.-]+$/.test(named) ? named : `usage-${query.groupBy}-${query.from}-${query.to}.csv`;
}

/** A day (YYYY-MM-DD) in the reader's language, read as UTC so it is the day the API counted. */
export function dayInWords(day: string, language: string, style: 'medium' | 'brief' = 'medium'): string {
  const time = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(time.getTime())) return day;
  // `brief` (a chart's axis: "Nov 12", "12 nov."): the table beside it gives the year.
  const format: Intl.DateTimeFormatOptions = style === 'brief' ? { month: 'short', day: 'numeric' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(language, { ...format, timeZone: 'UTC' }).format(time);
}

/** The colour share as a percentage in the reader's language (0.257 → "25.7 %" / "25,7 %"). */
export const percent = (share: number, language: string) =>
  new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(share);

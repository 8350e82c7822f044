import type { UsageReport } from './reports.js';

/**
 * The usage report as CSV (RFC 4180) for spreadsheets. Names come from people and admins, so a
 * cell a spreadsheet would run as a formula (starting with = + - @, or a tab or carriage return
 * that hides one) is prefixed with `'` (OWASP, CSV injection); cells holding a comma, quote or
 * line break are quoted.
 */
export const USAGE_CSV_HEADER = ['key', 'name', 'jobs', 'pages', 'sheets', 'colorPages', 'colorShare'] as const;

export function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function usageCsv(report: UsageReport): string {
  const lines = [USAGE_CSV_HEADER.join(','), ...report.rows.map((row) => USAGE_CSV_HEADER.map((column) => csvCell(row[column])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

export const usageCsvFileName = (report: UsageReport) => `usage-${report.groupBy}-${report.from}-${report.to}.csv`;

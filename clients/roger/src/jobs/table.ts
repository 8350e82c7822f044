import type { Job } from './job.js';

/**
 * How `roger jobs` and `roger watch` show jobs to a person (docs/clients.md#following-jobs): the
 * full id (it is what `roger cancel` takes), the state, the file and when the job last changed,
 * in local time. Scripts use `--json` instead of reading these columns.
 */
const FILE_WIDTH = 40;

export function jobsTable(jobs: readonly Job[]): string {
  const rows = [
    ['ID', 'STATE', 'FILE', 'WHEN'],
    ...jobs.map((job) => [job.id, job.state, shortened(job.fileName), localTime(lastChange(job))]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  return rows
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column]!))).join('  '))
    .join('\n');
}

/** One line of `roger watch`: the time, the job, and the state it is in now. */
export function changeLine(job: Job, previousState: string | undefined, now = new Date()): string {
  const change = previousState ? `${previousState} → ${job.state}` : job.state;
  return `${localTime(now.toISOString(), true)}  ${job.id}  ${shortened(job.fileName)}  ${change}${detail(job)}`;
}

/** What the state alone does not say: which printer has it, or why it failed. */
function detail(job: Job): string {
  if (job.state === 'released' && job.releasedTo) return ` (printer ${job.releasedTo})`;
  if (job.state === 'failed' && job.failedReason) return ` (${job.failedReason})`;
  return '';
}

/** When the job reached its current state. */
const lastChange = (job: Job) => job.printedAt ?? job.failedAt ?? job.releasedAt ?? job.updatedAt;

/** `2026-12-01 14:05` in the computer's time zone (or only `14:05:09` with `timeOnly`). */
export function localTime(iso: string, timeOnly = false): string {
  const at = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(at.getHours())}:${two(at.getMinutes())}`;
  if (timeOnly) return `${time}:${two(at.getSeconds())}`;
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
}

function shortened(name: string): string {
  // The API refuses control characters in names; a terminal is not left to trust that.
  // eslint-disable-next-line no-control-regex
  const characters = [...name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')];
  return characters.length <= FILE_WIDTH ? characters.join('') : `${characters.slice(0, FILE_WIDTH - 1).join('')}…`;
}

const pad = (text: string, width: number) => text + ' '.repeat(width - [...text].length);

import { InvalidArgumentError, Option, type Command } from 'commander';
import { signedIn } from '../credentials.js';
import { cancelJob } from '../jobs/cancel.js';
import { recentJobs } from '../jobs/job.js';
import { jobsTable } from '../jobs/table.js';
import { watchJobs } from '../jobs/watch.js';

/** `roger jobs`, `roger cancel` and `roger watch` (docs/clients.md#following-jobs). */
const STATES = ['registered', 'queued', 'released', 'printed', 'failed', 'cancelled'];

interface JobsFlags {
  json?: boolean;
  limit: number;
  state?: string;
}

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('List your print jobs, newest first: id, state, file and when it last changed.')
    .option('--json', 'print the jobs as JSON (the API’s own fields), for scripts')
    .option('--limit <n>', 'show at most this many jobs', count, 25)
    .addOption(new Option('--state <state>', 'only jobs in this state').choices(STATES))
    .addHelpText(
      'after',
      `
A job is registered, then queued once its file is in your OneDrive, released when a printer
fetched it, and printed; it can be cancelled until a printer has it. A printer that could not
print it marks it failed, and it waits for you.

Examples:
  $ roger jobs
  $ roger jobs --state queued
  $ roger jobs --json --limit 100 > jobs.json`,
    )
    .action(async (flags: JobsFlags) => {
      const jobs = await recentJobs(await signedIn(), flags.limit, flags.state);
      if (flags.json) return void process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
      process.stdout.write(jobs.length ? `${jobsTable(jobs)}\n` : flags.state ? `no ${flags.state} jobs\n` : 'no jobs\n');
    });

  program
    .command('cancel')
    .description('Cancel a job that no printer has yet (registered, queued or failed).')
    .argument('<id>', 'the job’s id, as `roger jobs` shows it')
    .addHelpText(
      'after',
      `
A job a printer has already fetched (released) or printed cannot be cancelled; roger says which.

Example:
  $ roger cancel 3f2a9c0d8e7b4a1c9d0e8f7a6b5c4d3e`,
    )
    .action(async (id: string) => {
      await cancelJob(await signedIn(), id);
      process.stdout.write(`cancelled ${id}\n`);
    });

  program
    .command('watch')
    .description('Follow jobs live: one line each time a state changes, until every job is printed, cancelled or failed.')
    .argument('[id...]', 'the jobs to follow (default: your queued and released jobs)')
    .option('--interval <seconds>', 'how often to look', seconds, 3)
    .addHelpText(
      'after',
      `
Exits 0 when every job has ended, 1 when one of them failed (or on an error). A lost
connection does not stop it: it says so and keeps trying.

Examples:
  $ roger watch
  $ roger print report.pdf && roger watch
  $ roger watch 3f2a9c0d8e7b4a1c9d0e8f7a6b5c4d3e --interval 10`,
    )
    .action(async (ids: string[], flags: { interval: number }) => {
      const outcome = await watchJobs(await signedIn(), ids, {
        intervalMs: flags.interval * 1000,
        print: (line) => process.stdout.write(`${line}\n`),
        warn: (line) => process.stderr.write(`${line}\n`),
      });
      if (outcome.failed > 0) {
        process.stderr.write(
          `roger: ${outcome.failed === 1 ? 'a job' : `${outcome.failed} jobs`} failed at the printer: see \`roger jobs\`\n`,
        );
        process.exitCode = 1;
      }
    });
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('a whole number from 1');
  return parsed;
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0.1) throw new InvalidArgumentError('a number of seconds, at least 0.1');
  return parsed;
}

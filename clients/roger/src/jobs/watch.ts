import { sleep } from '@roger-cloud/client-kit/backoff';
import { ApiError, isTransient } from '@roger-cloud/client-kit/http';
import type { Session } from '../credentials.js';
import { isSettled, readJob, recentJobs, type Job } from './job.js';
import { changeLine } from './table.js';

/**
 * `roger watch` (docs/clients.md#following-jobs): polls each watched job at an interval and
 * prints one line whenever its state changes, until every one is printed, cancelled or failed
 * (or gone past its retention): a failed job waits for its owner, so watching it longer would
 * show nothing. The API has no push channel for a user's jobs, and a job changes
 * a handful of times in its life, so a poll every few seconds is cheap and simple. A network
 * blip does not end the watch: it says so once and keeps trying.
 */
export interface WatchOptions {
  readonly intervalMs: number;
  readonly signal?: AbortSignal;
  /** A line for stdout (a change). */
  print(line: string): void;
  /** A line for stderr (the connection comes and goes). */
  warn(line: string): void;
}

export interface WatchOutcome {
  /** How many watched jobs ended failed. */
  readonly failed: number;
  readonly watched: number;
}

/** How many jobs `roger watch` without ids looks back through for ones on their way to paper. */
const RECENT = 100;

export async function watchJobs(session: Session, ids: readonly string[], options: WatchOptions): Promise<WatchOutcome> {
  const start = ids.length > 0 ? await Promise.all(ids.map((id) => readJob(session, id).catch(notFoundAs(id)))) : await underWay(session);
  if (start.length === 0) {
    options.print('no jobs queued or released');
    return { failed: 0, watched: 0 };
  }
  const latest = new Map<string, Job>();
  for (const job of start) {
    options.print(changeLine(job, undefined));
    latest.set(job.id, job);
  }
  let away: string | undefined;
  while ([...latest.values()].some((job) => !isSettled(job.state))) {
    await sleep(options.intervalMs, options.signal);
    if (options.signal?.aborted) break;
    const open = [...latest.values()].filter((job) => !isSettled(job.state));
    try {
      const now = await Promise.all(open.map((job) => readJob(session, job.id).catch(goneAs(job))));
      if (away) options.warn(`roger: connected to ${away} again`);
      away = undefined;
      for (const job of now) {
        const before = latest.get(job.id)!;
        if (job.state !== before.state) options.print(changeLine(job, before.state));
        latest.set(job.id, job);
      }
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (!away) options.warn(`roger: ${(error as Error).message}; still trying`);
      away = new URL(session.apiUrl).origin;
    }
  }
  const ended = [...latest.values()];
  return { failed: ended.filter((job) => job.state === 'failed').length, watched: ended.length };
}

/**
 * The user's jobs on their way to paper, oldest first (the order they will print in): queued or
 * released. A registered job is left out: it waits for its upload, and one whose upload was
 * abandoned stays registered until its retention, which would keep the watch open for days.
 */
const ON_THEIR_WAY: ReadonlySet<string> = new Set(['queued', 'released']);

async function underWay(session: Session): Promise<Job[]> {
  return (await recentJobs(session, RECENT)).filter((job) => ON_THEIR_WAY.has(job.state)).reverse();
}

const notFoundAs = (id: string) => (error: unknown) => {
  if (error instanceof ApiError && error.status === 404)
    throw new Error(`no job ${id} (or it has expired): see \`roger jobs\``, { cause: error });
  throw error;
};

/** A job that reached its retention while watched is gone from the API: it ends the watch for it. */
const goneAs = (job: Job) => (error: unknown) => {
  if (error instanceof ApiError && error.status === 404) return { ...job, state: 'expired' };
  throw error;
};

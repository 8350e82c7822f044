import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { readLink } from '../onedrive/links.js';
import { linkProblem } from '../onedrive/onedrive.js';
import type { Services } from '../services.js';
import { deleteIfUnchanged, replaceIfUnchanged } from '../store/conditional-replace.js';
import type { TenantPolicy } from '../tenants/policy.js';
import { readTenant } from '../tenants/tenants.js';
import { recordUsage } from '../usage/usage.js';
import { isLive, type JobDoc, type JobState, type PendingCleanup } from './jobs.js';

/**
 * What follows a job's last state (docs/flows.md#after-printing): its printed figures go into
 * the usage aggregates, and its OneDrive file is kept, deleted or moved by the tenant's
 * `afterPrint`. The job is written first with both marked pending (`usagePending`, `cleanup`),
 * so a failure here loses nothing: the sweep (sweepJobs) finishes what is left.
 */

/** The folder inside the user's Print folder that `move` puts printed files in. */
export const PRINTED_FOLDER = 'Printed';

/**
 * Attempts at a clean-up before it is given up: with the waits below, about 17 hours of Graph
 * failing. A file left behind is the user's to delete; nothing else depends on it.
 */
export const CLEANUP_MAX_ATTEMPTS = 8;
const FIRST_RETRY_SECONDS = 5 * 60;
const LONGEST_RETRY_SECONDS = 6 * 3600;

/** The wait after the n-th failed attempt (1, 2, …): 5 min, doubling, at most 6 h. */
export function cleanupRetrySeconds(attempts: number): number {
  return Math.min(FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1), LONGEST_RETRY_SECONDS);
}

/**
 * A job written in the last LEASE is left alone by the sweep: the request that wrote it (a
 * printer's report, a cancel) is still finishing it, or another sweep has claimed it. Longer than
 * an invocation may run (host.json functionTimeout: 2 minutes), as RELEASE_CLAIM_SECONDS is.
 */
export const SWEEP_LEASE_SECONDS = 150;
/** Items per query page, and jobs per sweep: a sweep ends well inside the function's 2 minutes, and the next takes the rest 5 minutes later. */
export const SWEEP_PAGE_SIZE = 50;
export const SWEEP_MAX_JOBS = 200;
/** Jobs cleaned up side by side within one sweep (each is a few Graph requests). */
const SWEEP_CONCURRENCY = 4;

/**
 * States in which an expired job's file follows the policy: any but printed and cancelled (those
 * had theirs). A job released but never reported (the printer died with it) is one of them: its
 * download URL lapsed long before, so no printer still needs the file.
 */
const EXPIRING_STATES: readonly JobState[] = ['registered', 'queued', 'released', 'failed'];

/** The pending marks a job takes with its final transition (printed or cancelled): none under `keep`, or without a OneDrive file. */
export function pendingCleanup(policy: TenantPolicy, job: JobDoc, now: Date): Pick<JobDoc, 'cleanup'> {
  const action = policy.afterPrint;
  if (action === 'keep' || !job.onedrive?.itemId) return {};
  return { cleanup: { action, due: now.toISOString(), attempts: 0 } };
}

/** How a clean-up went: done, nothing (left) to do, or worth another attempt. */
type CleanupOutcome =
  | { readonly kind: 'done'; readonly cleanedUp: 'deleted' | 'moved' }
  | { readonly kind: 'nothing'; readonly reason: string }
  | { readonly kind: 'retry' };

/**
 * The clean-up itself, as the job's owner through their OneDrive link. Without a usable link
 * (disconnected, or consent withdrawn) it cannot be done by us: no token, and none will come
 * unless the user connects again, who then sees the file in their Print folder and decides. So
 * that is final, as is a `Printed` name held by a file (only the user can fix it) and a file
 * already gone. Graph or Entra failing is worth another attempt.
 */
async function cleanUp(services: Services, job: JobDoc, action: PendingCleanup['action'], log: Logger): Promise<CleanupOutcome> {
  const itemId = job.onedrive?.itemId;
  if (!itemId) return { kind: 'nothing', reason: 'no-file' };
  try {
    const link = await readLink(services.store, job.tenantId, job.userId);
    const problem = linkProblem(link);
    if (problem) return { kind: 'nothing', reason: problem.code ?? 'onedrive-not-connected' };
    const drive = await (await services.onedrive()).driveOf(services, link!, log);
    // Only a file still in the Print folder, where Roger put it: one the user moved elsewhere is
    // theirs now (Roger touches nothing else of the drive), and one gone needs nothing.
    const item = await drive.item(itemId);
    if (!item || !item.isFile) return { kind: 'nothing', reason: 'file-gone' };
    if (item.parentId !== link!.printFolderId) return { kind: 'nothing', reason: 'file-moved' };
    // The same file printed twice (from the Print folder) is two jobs: the last one to finish cleans it up.
    if (await fileOfAnotherJob(services, job, itemId)) return { kind: 'nothing', reason: 'file-in-use' };
    if (action === 'delete') {
      await drive.deleteItem(itemId);
      return { kind: 'done', cleanedUp: 'deleted' };
    }
    const folder = await drive.ensureChildFolder(link!.printFolderId, PRINTED_FOLDER);
    return (await drive.moveItem(itemId, folder)) ? { kind: 'done', cleanedUp: 'moved' } : { kind: 'nothing', reason: 'file-gone' };
  } catch (error) {
    if (error instanceof Conflict) return { kind: 'nothing', reason: error.code ?? 'conflict' };
    log.warn('job-cleanup-failed', { jobId: job.id, attempt: job.cleanup ? job.cleanup.attempts + 1 : 1, error: errorName(error) });
    return { kind: 'retry' };
  }
}

/** States in which a job still needs its file: it may yet be printed. */
const NEEDS_FILE: readonly JobState[] = ['registered', 'queued', 'released', 'failed'];

/** Does another of the owner's live jobs print the same file? One query in the owner's partition. */
async function fileOfAnotherJob(services: Services, job: JobDoc, itemId: string): Promise<boolean> {
  const { resources } = await services.store
    .container('jobs')
    .items.query<string>(
      {
        query: `SELECT VALUE c.id FROM c WHERE c.pk = @pk AND c.type = 'job' AND c.onedrive.itemId = @itemId AND c.id != @id AND c.expiresAt > @now AND ARRAY_CONTAINS(@states, c.state)`,
        parameters: [
          { name: '@pk', value: job.pk },
          { name: '@itemId', value: itemId },
          { name: '@id', value: job.id },
          { name: '@now', value: services.now().toISOString() },
          { name: '@states', value: [...NEEDS_FILE] },
        ],
      },
      { partitionKey: job.pk, maxItemCount: 1 },
    )
    .fetchNext();
  return resources.length > 0;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

/** The job after its clean-up's outcome: the mark gone (done, or given up), or moved on to the next attempt. */
function afterCleanup(job: JobDoc, outcome: CleanupOutcome, now: Date, log: Logger): JobDoc {
  const { cleanup, ...rest } = job;
  if (!cleanup) return job;
  if (outcome.kind === 'done') {
    log.info('job-cleaned-up', { jobId: job.id, action: cleanup.action });
    return { ...rest, cleanedUp: outcome.cleanedUp };
  }
  if (outcome.kind === 'nothing') {
    log.info('job-cleanup-not-done', { jobId: job.id, action: cleanup.action, reason: outcome.reason });
    return rest;
  }
  const attempts = cleanup.attempts + 1;
  if (attempts >= CLEANUP_MAX_ATTEMPTS) {
    log.warn('job-cleanup-given-up', { jobId: job.id, action: cleanup.action, attempts });
    return rest;
  }
  const due = new Date(now.getTime() + cleanupRetrySeconds(attempts) * 1000).toISOString();
  return { ...rest, cleanup: { action: cleanup.action, due, attempts } };
}

/**
 * Does what `job` (as just written) has pending: usage figures, then the file's clean-up, then
 * one write of the job. Never throws for Graph or the store failing: the job keeps its marks and
 * the sweep tries again. Returns the job as written last.
 */
export async function finishJob(services: Services, job: JobDoc, log: Logger): Promise<JobDoc> {
  const now = services.now();
  let next = job;
  // The clean-up first: its Graph requests may take long (or the invocation may end during them),
  // and usage recorded before them would be recorded again by the sweep. So between the usage
  // patch and the job's write that clears its mark there is nothing but that write.
  if (job.cleanup && Date.parse(job.cleanup.due) <= now.getTime()) {
    next = afterCleanup(next, await cleanUp(services, job, job.cleanup.action, log), now, log);
  }
  if (job.usagePending) {
    try {
      await recordUsage(services.store, job, new Date(job.printedAt ?? job.updatedAt));
      const { usagePending: _done, ...recorded } = next;
      next = recorded;
    } catch (error) {
      log.warn('job-usage-pending', { jobId: job.id, error: errorName(error) });
      // Past its retention the job must go all the same: its figures are given up (a day's
      // aggregate refusing them for that long will not take them later).
      if (!isLive(job, now)) {
        const { usagePending: _given, ...givenUp } = next;
        next = givenUp;
        log.warn('job-usage-given-up', { jobId: job.id });
      }
    }
  }
  if (next === job) return job;
  try {
    // Past its retention with nothing left to do: the job goes now (docs/data.md#jobs-jobs: its
    // item outlives expiresAt only so that this could be done).
    if (!isLive(next, now) && !next.cleanup && !next.usagePending) {
      await deleteIfUnchanged(services.store.container('jobs'), job, job.pk);
      return next;
    }
    return await replaceIfUnchanged(services.store.container('jobs'), { ...next, updatedAt: now.toISOString() }, job.pk);
  } catch (error) {
    // The marks stay as they were: the sweep does it again (a delete or move done twice is harmless).
    log.warn('job-after-print-unrecorded', { jobId: job.id, error: errorName(error) });
    return job;
  }
}

/** What one sweep did, for its log line and the tests. */
export interface SweepReport {
  /** Jobs this sweep took (claimed) and finished or moved on. */
  readonly finished: number;
  /** Expired jobs whose items it deleted with nothing to clean up. */
  readonly expired: number;
  /** Jobs another sweep (or request) held or changed first: left to it. */
  readonly skipped: number;
  /** Whether it stopped at SWEEP_MAX_JOBS with more left for the next run. */
  readonly more: boolean;
}

/**
 * The timer's sweep (functions/timers.ts), over every tenant of the region: clean-ups whose
 * time has come, usage still to record, and jobs past their retention, whose OneDrive file
 * follows the policy as a cancelled job's would before the job item goes. Two queries across
 * partitions on indexed paths (shared/store/containers.ts), bounded per run. Each job is claimed
 * with a conditional write before any Graph request, so two sweeps at once (or a sweep and the
 * request that wrote the job) never both do one clean-up.
 */
export async function sweepJobs(services: Services, log: Logger): Promise<SweepReport> {
  const now = services.now();
  const leaseEnd = new Date(now.getTime() - SWEEP_LEASE_SECONDS * 1000).toISOString();
  const parameters = [
    { name: '@now', value: now.toISOString() },
    { name: '@leaseEnd', value: leaseEnd },
  ];
  const report = { finished: 0, expired: 0, skipped: 0, more: false };
  const policies = new Map<string, Promise<TenantPolicy | undefined>>();
  const policyOf = (tenantId: string) => {
    let policy = policies.get(tenantId);
    if (!policy) policies.set(tenantId, (policy = readTenant(services.store, tenantId).then((tenant) => tenant?.policy)));
    return policy;
  };

  const pending = {
    // Oldest first: a job the sweep could not finish is written (claimed) again, so it goes to
    // the back and cannot keep the others waiting.
    query:
      "SELECT * FROM c WHERE c.type = 'job' AND c.updatedAt <= @leaseEnd AND (c.usagePending = true OR c.cleanup.due <= @now) ORDER BY c.updatedAt ASC",
    parameters,
  };
  const expired = {
    query:
      "SELECT * FROM c WHERE c.type = 'job' AND c.expiresAt <= @now AND c.updatedAt <= @leaseEnd AND NOT IS_DEFINED(c.cleanup.due) AND NOT IS_DEFINED(c.usagePending)",
    parameters,
  };

  let budget = SWEEP_MAX_JOBS;
  for (const [spec, handle] of [
    [pending, (job: JobDoc) => finishPending(job)],
    [expired, (job: JobDoc) => finishExpired(job)],
  ] as const) {
    const pages = services.store.container('jobs').items.query<JobDoc>(spec, { maxItemCount: SWEEP_PAGE_SIZE });
    while (budget > 0 && pages.hasMoreResults()) {
      const { resources } = await pages.fetchNext();
      const jobs = resources.slice(0, budget);
      budget -= jobs.length;
      await inBatches(jobs, SWEEP_CONCURRENCY, handle);
    }
    if (budget === 0 && pages.hasMoreResults()) report.more = true;
  }
  log.info('jobs-swept', report);
  return report;

  /** Claims the job (a write that also starts its lease), then finishes it. */
  async function finishPending(job: JobDoc): Promise<void> {
    const claimed = await claim(job, {});
    if (!claimed) return;
    await finishJob(services, claimed, log);
    report.finished += 1;
  }

  async function finishExpired(job: JobDoc): Promise<void> {
    const policy = EXPIRING_STATES.includes(job.state) ? await policyOf(job.tenantId) : undefined;
    const marks = policy ? pendingCleanup(policy, job, now) : {};
    if (!marks.cleanup) {
      if (await deleteIfUnchanged(services.store.container('jobs'), job, job.pk)) report.expired += 1;
      else report.skipped += 1;
      return;
    }
    const claimed = await claim(job, marks);
    if (!claimed) return;
    await finishJob(services, claimed, log);
    report.finished += 1;
  }

  async function claim(job: JobDoc, marks: Partial<JobDoc>): Promise<JobDoc | undefined> {
    try {
      // The time of the claim, not of the sweep's start: the lease runs from this write.
      return await replaceIfUnchanged(
        services.store.container('jobs'),
        { ...job, ...marks, updatedAt: services.now().toISOString() },
        job.pk,
      );
    } catch (error) {
      // 412: changed since the query read it (another sweep claimed it); 404: gone (erased, expired).
      report.skipped += 1;
      log.info('job-sweep-skipped', { jobId: job.id, error: errorName(error) });
      return undefined;
    }
  }
}

/** `work` over `items`, at most `width` at a time; a failure of one (the store down) does not stop the others. */
async function inBatches<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += width) {
    await Promise.allSettled(items.slice(start, start + width).map(work));
  }
}

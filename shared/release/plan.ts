import type { ServiceBusMessage } from '@azure/service-bus';
import { DomainError } from '../errors.js';
import type { JobDoc } from '../jobs/jobs.js';

/**
 * What a release decides, apart from what it does: which jobs go and with which message, what
 * the claims and marks it wrote mean, what is given back when the send fails, and what the
 * caller is told. release.ts reads, writes and sends in between these steps; keeping the rules
 * here, over plain data, lets tests/unit/release-planner.test.ts check each of them without a
 * store or a broker.
 */

/** The printer and session a release goes to. */
export interface ReleaseTarget {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
}

export interface ReleaseOutcome {
  /** Jobs now on their way to the printer. */
  readonly released: number;
  /** Jobs still queued because the dispatch failed (retry later). */
  readonly queued: number;
  readonly dispatched: boolean;
}

/** The outcome, and the jobs as written after their release (so callers need not read them again). */
export interface ReleaseResult {
  readonly outcome: ReleaseOutcome;
  readonly releasedJobs: readonly JobDoc[];
  /** Why OneDrive jobs were held back (still queued), if they were. */
  readonly heldBack?: DomainError;
  /**
   * The store's error when jobs were sent but could not be marked released (they stay queued,
   * claimed for this release): a retry in the same session is safe, its messages carry the
   * same ids and the topic drops them as duplicates.
   */
  readonly unrecorded?: unknown;
}

export const RELEASE_MESSAGE_TTL_SECONDS = 20 * 60;

export interface DownloadLink {
  readonly url: string;
  readonly expiresAt: Date;
}

/** The download URLs found for a release's OneDrive jobs, and why some could not be had. */
export interface Downloads {
  readonly links: ReadonlyMap<string, DownloadLink>;
  readonly problem?: DomainError;
}

export function releaseMessage(job: JobDoc, target: ReleaseTarget, now: Date, download?: DownloadLink): ServiceBusMessage {
  // A message must not outlive the URL it carries (docs/flows.md#release-to-printers).
  const ttlMs = Math.min(
    RELEASE_MESSAGE_TTL_SECONDS * 1000,
    download ? download.expiresAt.getTime() - now.getTime() : Number.POSITIVE_INFINITY,
  );
  return {
    // The same job in the same session is the same message: the topic drops a retried send. A
    // release after the printer reported the job failed is a new message, or the topic would
    // drop it as well when the same session sends the job again.
    messageId: job.failures ? `${job.id}:${target.sessionId}:${job.failures}` : `${job.id}:${target.sessionId}`,
    correlationId: target.sessionId,
    contentType: 'application/json',
    timeToLive: ttlMs,
    applicationProperties: { printerId: target.deviceId },
    body: {
      type: 'release',
      jobId: job.id,
      fileName: job.fileName,
      options: job.options,
      // Jobs registered without OneDrive have no document to fetch (metadata only).
      downloadUrl: download?.url ?? null,
      downloadUrlExpiresAt: download?.expiresAt.toISOString() ?? null,
      user: { id: job.userId, username: job.username },
      releasedAt: now.toISOString(),
    },
  };
}

/** What a released job records: to which printer, in which release, when. */
export function releasedFields(target: ReleaseTarget, now: Date): Partial<JobDoc> {
  return { releasedTo: target.deviceId, releaseId: target.sessionId, releasedAt: now.toISOString() };
}

export interface ReleasePlan {
  readonly jobs: readonly JobDoc[];
  /** The jobs to claim and then send, each with its message, in the order asked. */
  readonly sends: readonly { readonly job: JobDoc; readonly message: ServiceBusMessage }[];
  /** OneDrive jobs without a download URL: not sent, they stay queued. */
  readonly held: readonly JobDoc[];
  readonly heldBack?: DomainError;
}

/**
 * Which of `jobs` go out: all of them, except OneDrive jobs whose download URL could not be had
 * (the file is gone, consent is gone, Graph is down) — a printer cannot print those, and they
 * must not block the others.
 */
export function planRelease(jobs: readonly JobDoc[], target: ReleaseTarget, now: Date, downloads: Downloads): ReleasePlan {
  const held = jobs.filter((job) => job.onedrive && !downloads.links.has(job.id));
  const sends = jobs
    .filter((job) => !held.includes(job))
    .map((job) => ({ job, message: releaseMessage(job, target, now, downloads.links.get(job.id)) }));
  return { jobs, sends, held, ...(downloads.problem ? { heldBack: downloads.problem } : {}) };
}

/** Nothing asked, nothing to do: a dispatch of no jobs did not fail. */
export const nothingToRelease: ReleaseResult = { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] };

/** The printer could not be reached (or is no longer connected): every job asked stays queued. */
export function notDispatched(jobs: readonly JobDoc[]): ReleaseResult {
  return { outcome: { released: 0, queued: jobs.length, dispatched: false }, releasedJobs: [] };
}

/**
 * A set of conditional job writes (claims, marks), sorted: a job's own 409 (a DomainError:
 * released, cancelled or claimed by another release meanwhile) means it is not ours to send or
 * record, and is dropped; anything else is the store failing.
 */
export function sortWrites(results: readonly PromiseSettledResult<JobDoc>[]): { written: JobDoc[]; failures: unknown[] } {
  const written = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failures = results.flatMap((result) =>
    result.status === 'rejected' && !(result.reason instanceof DomainError) ? [result.reason as unknown] : [],
  );
  return { written, failures };
}

export type AfterClaims =
  /** The store failed: give back the claims taken, send nothing, fail (nothing is lost: the jobs stay queued). */
  | { readonly next: 'fail'; readonly giveBack: readonly JobDoc[]; readonly error: unknown }
  /** Every job went to another release (or was cancelled) meanwhile: nothing to send, and nothing failed. */
  | { readonly next: 'done'; readonly result: ReleaseResult }
  /** Send these messages, for the jobs this release now holds. */
  | { readonly next: 'send'; readonly claimed: readonly JobDoc[]; readonly messages: readonly ServiceBusMessage[] };

/** What follows the claims of `plan.sends` (in that order). */
export function afterClaims(plan: ReleasePlan, claims: readonly PromiseSettledResult<JobDoc>[]): AfterClaims {
  const { written, failures } = sortWrites(claims);
  if (failures.length > 0) return { next: 'fail', giveBack: written, error: failures[0] };
  if (written.length === 0) {
    return {
      next: 'done',
      result: { outcome: { released: 0, queued: plan.held.length, dispatched: true }, releasedJobs: [], ...heldBackOf(plan) },
    };
  }
  const ids = new Set(written.map((job) => job.id));
  return { next: 'send', claimed: written, messages: plan.sends.filter(({ job }) => ids.has(job.id)).map(({ message }) => message) };
}

/** The send failed: every claim is given back at once (so a retry need not wait for it to lapse), and the caller is told nothing went. */
export function afterFailedSend(plan: ReleasePlan, claimed: readonly JobDoc[]): { giveBack: readonly JobDoc[]; result: ReleaseResult } {
  return { giveBack: claimed, result: notDispatched(plan.jobs) };
}

/**
 * The messages are out; what marking the jobs released came to. A job cancelled meanwhile (its
 * 409) stays out of the count: the printer reports what it printed. A store failure is
 * reported (`unrecorded`), so the caller can retry: the same messages are dropped as duplicates.
 */
export function afterMarks(plan: ReleasePlan, marks: readonly PromiseSettledResult<JobDoc>[]): ReleaseResult {
  const { written, failures } = sortWrites(marks);
  return {
    outcome: { released: written.length, queued: plan.held.length, dispatched: true },
    releasedJobs: written,
    ...heldBackOf(plan),
    ...(failures.length > 0 ? { unrecorded: failures[0] } : {}),
  };
}

const heldBackOf = (plan: ReleasePlan) => (plan.heldBack ? { heldBack: plan.heldBack } : {});

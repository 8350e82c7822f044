import type { ServiceBusMessage } from '@azure/service-bus';
import { Conflict, DomainError } from '../errors.js';
import type { HoldReason, JobDoc, JobOptions } from '../jobs/jobs.js';
import { applyRights, type PersonRights } from './print-rights.js';

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
  /** Jobs still queued: the dispatch failed (retry later), their document could not be had now, or print rights hold them. */
  readonly queued: number;
  readonly dispatched: boolean;
  /** Of `queued`, those held by print rights (each with its `heldReason`); present when there are any. */
  readonly held?: number;
  /** Jobs whose document is gone, marked failed (`document-missing`); present when there are any. */
  readonly failed?: number;
  /** Job ids asked for that are not the user's queued jobs (`jobIds` of an approval); present when there are any. */
  readonly skipped?: number;
}

/** The outcome, and the jobs as written after their release (so callers need not read them again). */
export interface ReleaseResult {
  readonly outcome: ReleaseOutcome;
  readonly releasedJobs: readonly JobDoc[];
  /**
   * Why jobs asked for were not sent, if some were not: OneDrive jobs held back (still queued),
   * a document gone (the job failed), or print rights (the job held). A release of one job answers with it.
   */
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
  /** Jobs whose file Graph says is gone (no such item, or no download URL for it). */
  readonly missing?: ReadonlySet<string>;
  /** Why other jobs had no URL now (consent gone, Graph busy or down): those stay queued. */
  readonly problem?: DomainError;
}

/** `options`: what the printer is to print, the job's own unless print rights changed them (docs/flows.md#print-rights). */
export function releaseMessage(
  job: JobDoc,
  target: ReleaseTarget,
  now: Date,
  download?: DownloadLink,
  options: JobOptions = job.options,
): ServiceBusMessage {
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
      options,
      // Jobs registered without OneDrive have no document to fetch (metadata only).
      downloadUrl: download?.url ?? null,
      downloadUrlExpiresAt: download?.expiresAt.toISOString() ?? null,
      user: { id: job.userId, username: job.username },
      releasedAt: now.toISOString(),
    },
  };
}

/**
 * What a released job records: to which printer, in which release, when, and the options it was
 * sent when print rights changed them (the printed figures are checked against those).
 */
export function releasedFields(target: ReleaseTarget, now: Date, releasedOptions?: JobOptions): Partial<JobDoc> {
  return {
    releasedTo: target.deviceId,
    releaseId: target.sessionId,
    releasedAt: now.toISOString(),
    ...(releasedOptions ? { releasedOptions } : {}),
  };
}

/** A job to claim and send, its message, and its options when print rights changed them. */
export interface PlannedSend {
  readonly job: JobDoc;
  readonly message: ServiceBusMessage;
  readonly releasedOptions?: JobOptions;
}

export interface ReleasePlan {
  readonly jobs: readonly JobDoc[];
  /** The jobs to claim and then send, each with its message, in the order asked. */
  readonly sends: readonly PlannedSend[];
  /** OneDrive jobs without a download URL now (consent gone, Graph down): not sent, they stay as they are. */
  readonly held: readonly JobDoc[];
  /** Jobs that break the person's print rights under `hold`: not sent, each marked with its reason. */
  readonly holds: readonly { readonly job: JobDoc; readonly reason: HoldReason }[];
  /** Jobs whose document is gone: not sent, marked failed (`document-missing`). */
  readonly missing: readonly JobDoc[];
  /** Why the download URLs of `held` could not be had. */
  readonly problem?: DomainError;
  /** Why jobs were not sent, for the caller (ReleaseResult.heldBack). */
  readonly heldBack?: DomainError;
}

/**
 * The verdict of print rights on each job, before any URL is asked for: a held job needs none.
 * `person` undefined: the tenant sets no rights, every job goes as it is.
 */
export function judgeJobs(jobs: readonly JobDoc[], person: PersonRights | undefined) {
  return new Map(jobs.map((job) => [job.id, applyRights(person, job.options)] as const));
}

/** The jobs that need a download URL: OneDrive jobs that print rights do not hold. */
export function jobsNeedingDownloads(jobs: readonly JobDoc[], person: PersonRights | undefined): JobDoc[] {
  const verdicts = judgeJobs(jobs, person);
  return jobs.filter((job) => job.onedrive && !('hold' in verdicts.get(job.id)!));
}

/**
 * Which of `jobs` go out, and how: each with the options the person's print rights allow (the
 * printer gets those); except jobs that break a right under `hold` (they stay, with the reason),
 * OneDrive jobs whose file is gone (failed there and then, instead of held back at every release
 * until they expire), and OneDrive jobs whose URL could not be had now (consent gone, Graph down):
 * a printer cannot print those, and they must not block the others.
 */
export function planRelease(
  jobs: readonly JobDoc[],
  target: ReleaseTarget,
  now: Date,
  downloads: Downloads,
  person?: PersonRights,
): ReleasePlan {
  const verdicts = judgeJobs(jobs, person);
  const holds: { job: JobDoc; reason: HoldReason }[] = [];
  const missing: JobDoc[] = [];
  const held: JobDoc[] = [];
  const sends: PlannedSend[] = [];
  for (const job of jobs) {
    const verdict = verdicts.get(job.id)!;
    if ('hold' in verdict) holds.push({ job, reason: verdict.hold });
    else if (job.onedrive && downloads.missing?.has(job.id)) missing.push(job);
    else if (job.onedrive && !downloads.links.has(job.id)) held.push(job);
    else {
      const message = releaseMessage(job, target, now, downloads.links.get(job.id), verdict.options);
      sends.push({ job, message, ...(verdict.changed ? { releasedOptions: verdict.options } : {}) });
    }
  }
  return withHeldBack({ jobs, sends, held, holds, missing, ...(downloads.problem ? { problem: downloads.problem } : {}) });
}

/** The plan with why jobs were not sent: the download problem first, then a document gone, then a hold. */
function withHeldBack({ heldBack: _earlier, ...plan }: ReleasePlan): ReleasePlan {
  const heldBack = plan.problem ?? missingProblem(plan.missing) ?? holdProblem(plan.holds);
  return { ...plan, ...(heldBack ? { heldBack } : {}) };
}

const missingProblem = (missing: readonly JobDoc[]) =>
  missing[0] &&
  new Conflict('the document is no longer in OneDrive; the job is marked failed', {
    jobId: missing[0].id,
    state: 'failed',
    failedReason: 'document-missing',
  });

const holdProblem = (holds: ReleasePlan['holds']) =>
  holds[0] &&
  new Conflict('the job asks for more than your print rights allow; it is held', {
    jobId: holds[0].job.id,
    state: holds[0].job.state,
    heldReason: holds[0].reason,
  });

/**
 * The job as marked held by print rights, or undefined when it says so already (no write: a job
 * held at every session is written once).
 */
export function heldJob(job: JobDoc, reason: HoldReason): JobDoc | undefined {
  return job.heldReason === reason ? undefined : { ...job, heldReason: reason };
}

/**
 * After the held and missing jobs were marked (before any claim): what each came to. A job's own
 * 409 (cancelled or released meanwhile) drops it from the counts; the store failing fails the
 * release before anything was claimed or sent.
 */
export function afterUnsentMarks(
  plan: ReleasePlan,
  holds: readonly PromiseSettledResult<JobDoc>[],
  missing: readonly PromiseSettledResult<JobDoc>[],
): { readonly next: 'fail'; readonly error: unknown } | { readonly next: 'claim'; readonly plan: ReleasePlan } {
  const held = sortWrites(holds);
  const failed = sortWrites(missing);
  const error = held.failures[0] ?? failed.failures[0];
  if (error !== undefined) return { next: 'fail', error };
  const heldIds = new Set(held.written.map((job) => job.id));
  return {
    next: 'claim',
    plan: withHeldBack({ ...plan, holds: plan.holds.filter(({ job }) => heldIds.has(job.id)), missing: failed.written }),
  };
}

/** Nothing asked, nothing to do: a dispatch of no jobs did not fail. */
export const nothingToRelease: ReleaseResult = { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] };

/** The printer could not be reached (or is no longer connected): every job asked stays queued. */
export function notDispatched(jobs: readonly JobDoc[]): ReleaseResult {
  return { outcome: { released: 0, queued: jobs.length, dispatched: false }, releasedJobs: [] };
}

/** The outcome once the plan ran: `released` marked, the jobs sent but not marked (`unsent`) still queued with the held ones. */
function outcomeOf(plan: ReleasePlan, released: number, unsent: number, dispatched: boolean): ReleaseOutcome {
  return {
    released,
    queued: unsent + plan.held.length + plan.holds.length,
    dispatched,
    ...(plan.holds.length > 0 ? { held: plan.holds.length } : {}),
    ...(plan.missing.length > 0 ? { failed: plan.missing.length } : {}),
  };
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
    return { next: 'done', result: { outcome: outcomeOf(plan, 0, 0, true), releasedJobs: [], ...heldBackOf(plan) } };
  }
  const ids = new Set(written.map((job) => job.id));
  return { next: 'send', claimed: written, messages: plan.sends.filter(({ job }) => ids.has(job.id)).map(({ message }) => message) };
}

/**
 * The send failed: every claim is given back at once (so a retry need not wait for it to lapse),
 * and the caller is told nothing went: the jobs it asked for are still queued, but those marked
 * failed (document gone).
 */
export function afterFailedSend(plan: ReleasePlan, claimed: readonly JobDoc[]): { giveBack: readonly JobDoc[]; result: ReleaseResult } {
  return { giveBack: claimed, result: { outcome: outcomeOf(plan, 0, plan.sends.length, false), releasedJobs: [] } };
}

/** What marking `claimed` released writes: where it went, and the options print rights gave it. */
export function markFor(plan: ReleasePlan, claimed: JobDoc, target: ReleaseTarget, now: Date): Partial<JobDoc> {
  return releasedFields(target, now, plan.sends.find(({ job }) => job.id === claimed.id)?.releasedOptions);
}

/**
 * The messages are out; what marking the jobs released came to. A job cancelled meanwhile (its
 * 409) stays out of the count: the printer reports what it printed. A store failure is
 * reported (`unrecorded`), so the caller can retry: the same messages are dropped as duplicates.
 */
export function afterMarks(plan: ReleasePlan, marks: readonly PromiseSettledResult<JobDoc>[]): ReleaseResult {
  const { written, failures } = sortWrites(marks);
  return {
    outcome: outcomeOf(plan, written.length, 0, true),
    releasedJobs: written,
    ...heldBackOf(plan),
    ...(failures.length > 0 ? { unrecorded: failures[0] } : {}),
  };
}

const heldBackOf = (plan: ReleasePlan) => (plan.heldBack ? { heldBack: plan.heldBack } : {});

import type { ServiceBusMessage } from '@azure/service-bus';
import type { PrinterSessionPrincipal } from '../auth/principal.js';
import { readDevice } from '../devices/devices.js';
import { Conflict, DomainError } from '../errors.js';
import { claimRelease, queuedJobs, transitionJob, unclaimRelease, type JobDoc } from '../jobs/jobs.js';
import type { Logger } from '../logging/logger.js';
import { readLink } from '../onedrive/links.js';
import { linkProblem } from '../onedrive/onedrive.js';
import type { Services } from '../services.js';

/**
 * Release: one message per job to the printer's subscription (docs/flows.md#release-to-printers).
 *
 * Claim the jobs (a conditional write: one release per job wins), send, then mark them
 * released. If the send fails the jobs stay `queued`, the claims are given back and the caller
 * is told: nothing is lost. The message id is `<jobId>:<sessionId>`, so a retried
 * dispatch within the same session is dropped by the topic's duplicate detection: a job is
 * released at most once per session.
 */
export interface ReleaseTarget {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly sessionId: string;
}

/** The printer and session a session token acts at: where its releases go. */
export function sessionTarget(caller: PrinterSessionPrincipal): ReleaseTarget {
  return { tenantId: caller.tenantId, userId: caller.userId, deviceId: caller.deviceId, sessionId: caller.sessionId };
}

export interface ReleaseOutcome {
  /** Jobs now on their way to the printer. */
  readonly released: number;
  /** Jobs still queued because the dispatch failed (retry later). */
  readonly queued: number;
  readonly dispatched: boolean;
}

export const RELEASE_MESSAGE_TTL_SECONDS = 20 * 60;
/**
 * How long a Graph download URL is taken to be valid. Microsoft does not state a lifetime in
 * the response; it is documented as short-lived (about an hour), so count on less.
 */
export const DOWNLOAD_URL_LIFETIME_SECONDS = 30 * 60;
/** Graph requests in flight at once while collecting download URLs. */
const DOWNLOAD_URL_CONCURRENCY = 8;
/** Releases per request: one batch's worth; more wait for the next release. */
export const MAX_JOBS_PER_RELEASE = 100;

export interface DownloadLink {
  readonly url: string;
  readonly expiresAt: Date;
}

export function releaseMessage(job: JobDoc, target: ReleaseTarget, now: Date, download?: DownloadLink): ServiceBusMessage {
  // A message must not outlive the URL it carries (docs/flows.md#release-to-printers).
  const ttlMs = Math.min(RELEASE_MESSAGE_TTL_SECONDS * 1000, download ? download.expiresAt.getTime() - now.getTime() : Number.POSITIVE_INFINITY);
  return {
    messageId: `${job.id}:${target.sessionId}`,
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
      user: { username: job.username },
      releasedAt: now.toISOString(),
    },
  };
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

interface Downloads {
  readonly links: ReadonlyMap<string, DownloadLink>;
  /** OneDrive jobs without a URL: they stay queued. */
  readonly held: readonly JobDoc[];
  readonly problem?: DomainError;
}

/**
 * Fresh download URLs for the OneDrive jobs among `jobs` (all the user's), asked for just
 * before sending so that they are as fresh as they can be. A job whose file is gone, or a user
 * whose consent is gone, holds those jobs back; the others still go.
 */
async function collectDownloads(services: Services, target: ReleaseTarget, jobs: readonly JobDoc[], log: Logger): Promise<Downloads> {
  const wanted = jobs.filter((job) => job.onedrive);
  if (wanted.length === 0) return { links: new Map(), held: [] };
  const link = await readLink(services.store, target.tenantId, target.userId);
  const unusable = linkProblem(link);
  if (unusable) return { links: new Map(), held: wanted, problem: unusable };
  const drive = await (await services.onedrive()).driveOf(services.store, link!, log);
  const links = new Map<string, DownloadLink>();
  const held: JobDoc[] = [];
  let problem: DomainError | undefined;
  for (let start = 0; start < wanted.length; start += DOWNLOAD_URL_CONCURRENCY) {
    // Graph busy, down or silent (each call up to its timeout): the rest would only wait the
    // same way, so they are held back at once and the release answers in bounded time.
    if (problem?.kind === 'unavailable') {
      held.push(...wanted.slice(start));
      break;
    }
    await Promise.all(
      wanted.slice(start, start + DOWNLOAD_URL_CONCURRENCY).map(async (job) => {
        try {
          const url = job.onedrive?.itemId ? await drive.downloadUrl(job.onedrive.itemId) : undefined;
          if (url) links.set(job.id, { url, expiresAt: new Date(services.now().getTime() + DOWNLOAD_URL_LIFETIME_SECONDS * 1000) });
          else throw new Conflict('the document is no longer in OneDrive');
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          held.push(job);
          problem ??= error;
        }
      }),
    );
  }
  if (held.length > 0) log.warn('release-held-back', { deviceId: target.deviceId, jobs: held.length, reason: problem?.kind });
  return { links, held, ...(problem ? { problem } : {}) };
}

export async function releaseJobs(services: Services, target: ReleaseTarget, jobs: readonly JobDoc[], log: Logger): Promise<ReleaseResult> {
  const notDispatched = { outcome: { released: 0, queued: jobs.length, dispatched: false }, releasedJobs: [] };
  if (jobs.length === 0) return { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] };
  const { store, now } = services;
  const device = await readDevice(store, target.tenantId, target.deviceId);
  if (!device || device.status !== 'connected') return notDispatched;
  const downloads = await collectDownloads(services, target, jobs, log);
  const heldBack = downloads.problem ? { heldBack: downloads.problem } : {};
  const time = now();
  // Claim before sending: a release racing from another session or printer (another message
  // id, so duplicate detection cannot drop it) finds the job claimed and sends nothing.
  // The jobs are separate items: claims (and, below, the marks) go out together, not one by one.
  const claims = await Promise.allSettled(
    jobs.filter((job) => !downloads.held.includes(job)).map((job) => claimRelease(store, job, target.sessionId, time)),
  );
  const sendable = claims.flatMap((claim) => (claim.status === 'fulfilled' ? [claim.value] : []));
  // A 409 means released, cancelled or claimed meanwhile; anything else is the store failing.
  const failure = claims.find(storeFailure);
  if (failure) {
    await Promise.all(sendable.map((job) => unclaimRelease(store, job)));
    throw failure.reason;
  }
  if (sendable.length === 0) return { outcome: { released: 0, queued: downloads.held.length, dispatched: true }, releasedJobs: [], ...heldBack };
  try {
    const messaging = await services.messaging();
    await messaging.sendBatch(device.topic, sendable.map((job) => releaseMessage(job, target, time, downloads.links.get(job.id))));
  } catch (error) {
    log.warn('release-dispatch-failed', { deviceId: target.deviceId, jobs: jobs.length, error: (error as Error)?.name });
    await Promise.all(sendable.map((job) => unclaimRelease(store, job)));
    return notDispatched;
  }
  const marks = await Promise.allSettled(
    sendable.map((job) =>
      transitionJob(store, job, 'release', time, { releasedTo: target.deviceId, releaseId: target.sessionId, releasedAt: time.toISOString() }),
    ),
  );
  const releasedJobs = marks.flatMap((mark) => (mark.status === 'fulfilled' ? [mark.value] : []));
  // A 409 (cancelled or changed meanwhile): the message is out; the printer reports what it
  // printed. Anything else is the store failing: reported, so the caller can retry.
  const unrecorded: unknown = marks.find(storeFailure)?.reason;
  log.info('release-dispatched', { deviceId: target.deviceId, jobs: jobs.length, released: releasedJobs.length });
  if (unrecorded) log.warn('release-unrecorded', { deviceId: target.deviceId, jobs: sendable.length - releasedJobs.length, error: (unrecorded as Error)?.name });
  return {
    outcome: { released: releasedJobs.length, queued: downloads.held.length, dispatched: true },
    releasedJobs,
    ...heldBack,
    ...(unrecorded ? { unrecorded } : {}),
  };
}

/** A rejected job write that is not the job's own 409 (a DomainError): the store failing. */
function storeFailure(result: PromiseSettledResult<unknown>): result is PromiseRejectedResult {
  return result.status === 'rejected' && !(result.reason instanceof DomainError);
}

/** All of the user's queued jobs, to the printer they are at (on session approval). */
export async function releaseQueuedJobs(services: Services, target: ReleaseTarget, log: Logger): Promise<ReleaseOutcome> {
  const jobs = await queuedJobs(services.store, target.tenantId, target.userId, services.now(), MAX_JOBS_PER_RELEASE);
  return (await releaseJobs(services, target, jobs, log)).outcome;
}

import type { PrinterSessionPrincipal } from '../auth/principal.js';
import { readDevice } from '../devices/devices.js';
import { Conflict, DomainError } from '../errors.js';
import { claimRelease, queuedJobs, transitionJob, unclaimRelease, type JobDoc } from '../jobs/jobs.js';
import type { Logger } from '../logging/logger.js';
import { readLink } from '../onedrive/links.js';
import { linkProblem } from '../onedrive/onedrive.js';
import type { Services } from '../services.js';
import type { Store } from '../store/store.js';
import {
  afterClaims,
  afterFailedSend,
  afterMarks,
  notDispatched,
  nothingToRelease,
  planRelease,
  releasedFields,
  type DownloadLink,
  type Downloads,
  type ReleaseOutcome,
  type ReleaseResult,
  type ReleaseTarget,
} from './plan.js';

/**
 * Release: one message per job to the printer's subscription (docs/flows.md#release-to-printers).
 *
 * Claim the jobs (a conditional write: one release per job wins), send, then mark them
 * released. If the send fails the jobs stay `queued`, the claims are given back and the caller
 * is told: nothing is lost. The message id is `<jobId>:<sessionId>`, so a retried
 * dispatch within the same session is dropped by the topic's duplicate detection: a job is
 * released at most once per session. This module does the reading, writing and sending; what
 * each step decides is plan.ts.
 */

/** The printer and session a session token acts at: where its releases go. */
export function sessionTarget(caller: PrinterSessionPrincipal): ReleaseTarget {
  return { tenantId: caller.tenantId, userId: caller.userId, deviceId: caller.deviceId, sessionId: caller.sessionId };
}

/**
 * How long a Graph download URL is taken to be valid. Microsoft does not state a lifetime in
 * the response; it is documented as short-lived (about an hour), so count on less.
 */
export const DOWNLOAD_URL_LIFETIME_SECONDS = 30 * 60;
/** Graph requests in flight at once while collecting download URLs. */
const DOWNLOAD_URL_CONCURRENCY = 8;
/** Releases per request: one batch's worth; more wait for the next release. */
export const MAX_JOBS_PER_RELEASE = 100;

/**
 * Fresh download URLs for the OneDrive jobs among `jobs` (all the user's), asked for just
 * before sending so that they are as fresh as they can be. A job whose file is gone, or a user
 * whose consent is gone, holds those jobs back; the others still go.
 */
async function collectDownloads(services: Services, target: ReleaseTarget, jobs: readonly JobDoc[], log: Logger): Promise<Downloads> {
  const wanted = jobs.filter((job) => job.onedrive);
  if (wanted.length === 0) return { links: new Map() };
  const link = await readLink(services.store, target.tenantId, target.userId);
  const unusable = linkProblem(link);
  if (unusable) return { links: new Map(), problem: unusable };
  // A region without OneDrive (503 onedrive-not-configured) holds these jobs back, not the others.
  const onedrive = await services.onedrive().catch((error: unknown) => {
    if (error instanceof DomainError) return error;
    throw error;
  });
  if (onedrive instanceof DomainError) return { links: new Map(), problem: onedrive };
  const drive = await onedrive.driveOf(services, link!, log);
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
  return { links, ...(problem ? { problem } : {}) };
}

export async function releaseJobs(services: Services, target: ReleaseTarget, jobs: readonly JobDoc[], log: Logger): Promise<ReleaseResult> {
  if (jobs.length === 0) return nothingToRelease;
  const { store, now, telemetry } = services;
  telemetry.release();
  const device = await readDevice(store, target.tenantId, target.deviceId);
  if (!device || device.status !== 'connected') return notDispatched(jobs);
  const downloads = await collectDownloads(services, target, jobs, log);
  const time = now();
  const plan = planRelease(jobs, target, time, downloads);
  // Claim before sending: a release racing from another session or printer (another message
  // id, so duplicate detection cannot drop it) finds the job claimed and sends nothing.
  // The jobs are separate items: claims (and, below, the marks) go out together, not one by one.
  const claims = afterClaims(plan, await Promise.allSettled(plan.sends.map(({ job }) => claimRelease(store, job, target.sessionId, time))));
  if (claims.next === 'fail') {
    await giveBack(store, claims.giveBack);
    throw claims.error;
  }
  if (claims.next === 'done') return claims.result;
  try {
    const messaging = await services.messaging();
    await messaging.sendBatch(device.topic, claims.messages);
    telemetry.messagesSent(claims.messages.length);
  } catch (error) {
    log.warn('release-dispatch-failed', { deviceId: target.deviceId, jobs: jobs.length, error: (error as Error)?.name });
    const failed = afterFailedSend(plan, claims.claimed);
    await giveBack(store, failed.giveBack);
    return failed.result;
  }
  const result = afterMarks(
    plan,
    await Promise.allSettled(claims.claimed.map((job) => transitionJob(store, job, 'release', time, releasedFields(target, time)))),
  );
  log.info('release-dispatched', { deviceId: target.deviceId, jobs: jobs.length, released: result.releasedJobs.length });
  if (result.unrecorded) {
    log.warn('release-unrecorded', {
      deviceId: target.deviceId,
      jobs: claims.claimed.length - result.releasedJobs.length,
      error: (result.unrecorded as Error)?.name,
    });
  }
  return result;
}

const giveBack = (store: Store, claimed: readonly JobDoc[]) => Promise.all(claimed.map((job) => unclaimRelease(store, job)));

/** All of the user's queued jobs, to the printer they are at (on session approval). */
export async function releaseQueuedJobs(services: Services, target: ReleaseTarget, log: Logger): Promise<ReleaseOutcome> {
  const jobs = await queuedJobs(services.store, target.tenantId, target.userId, services.now(), MAX_JOBS_PER_RELEASE);
  return (await releaseJobs(services, target, jobs, log)).outcome;
}

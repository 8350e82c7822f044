import type { PrinterSessionPrincipal } from '../auth/principal.js';
import { readDevice } from '../devices/devices.js';
import { Conflict, DomainError, Forbidden } from '../errors.js';
import { claimRelease, queuedJobs, readJob, transitionJob, unclaimRelease, type HoldReason, type JobDoc } from '../jobs/jobs.js';
import type { Logger } from '../logging/logger.js';
import { readLink } from '../onedrive/links.js';
import { linkProblem } from '../onedrive/onedrive.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged } from '../store/conditional-replace.js';
import { isPreconditionFailed } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { readTenant } from '../tenants/tenants.js';
import { readUser, type UserDoc } from '../users/users.js';
import {
  afterClaims,
  afterFailedSend,
  afterMarks,
  afterUnsentMarks,
  heldJob,
  jobsNeedingDownloads,
  markFor,
  notDispatched,
  nothingToRelease,
  planRelease,
  type DownloadLink,
  type Downloads,
  type ReleaseOutcome,
  type ReleaseResult,
  type ReleaseTarget,
} from './plan.js';
import { roleMatters, rightsOf, type PersonRights } from './print-rights.js';

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
 * Fresh download URLs for `wanted` (OneDrive jobs, all the user's), asked for just before sending
 * so that they are as fresh as they can be. A job whose file is gone is named `missing` (it will
 * be marked failed); a user whose consent is gone, or Graph failing, holds the jobs back; the
 * others still go.
 */
async function collectDownloads(services: Services, target: ReleaseTarget, wanted: readonly JobDoc[], log: Logger): Promise<Downloads> {
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
  const missing = new Set<string>();
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
          // Graph answers 404 (undefined here) for an item deleted or moved out of the drive.
          const url = job.onedrive?.itemId ? await drive.downloadUrl(job.onedrive.itemId) : undefined;
          if (url) links.set(job.id, { url, expiresAt: new Date(services.now().getTime() + DOWNLOAD_URL_LIFETIME_SECONDS * 1000) });
          else missing.add(job.id);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          held.push(job);
          problem ??= error;
        }
      }),
    );
  }
  if (held.length > 0) log.warn('release-held-back', { deviceId: target.deviceId, jobs: held.length, reason: problem?.kind });
  if (missing.size > 0) log.info('release-document-missing', { deviceId: target.deviceId, jobs: missing.size });
  return { links, ...(missing.size > 0 ? { missing } : {}), ...(problem ? { problem } : {}) };
}

/** Who the jobs belong to, as the caller read them in this request (so the release need not read them again). */
export interface ReleaseOwner {
  readonly role: UserDoc['role'];
}

/**
 * The person's print rights (docs/flows.md#print-rights): the tenant's policy (cached a minute,
 * as every sign-in reads it) and the role as stored now. The user item is read only when the
 * role decides something and the caller did not read it already.
 */
async function personRights(services: Services, target: ReleaseTarget, owner: ReleaseOwner | undefined): Promise<PersonRights | undefined> {
  const tenant = await readTenant(services.store, target.tenantId);
  if (!tenant) throw new Forbidden('this account no longer exists');
  if (!tenant.policy.printRights) return undefined;
  if (owner || !roleMatters(tenant.policy, target.userId)) return rightsOf(tenant.policy, target.userId, owner?.role);
  const user = await readUser(services.store, target.tenantId, target.userId);
  if (!user) throw new Forbidden('this account no longer exists');
  return rightsOf(tenant.policy, target.userId, user.role);
}

/**
 * Sends `jobs` (the user's, queued, or one failed job asked for again) to the target's printer,
 * each with the options the user's print rights allow. `owner`: the user as the caller read
 * them in this request, if it did.
 */
export async function releaseJobs(
  services: Services,
  target: ReleaseTarget,
  jobs: readonly JobDoc[],
  log: Logger,
  owner?: ReleaseOwner,
): Promise<ReleaseResult> {
  if (jobs.length === 0) return nothingToRelease;
  const { store, now, telemetry } = services;
  telemetry.release();
  const [device, person] = await Promise.all([readDevice(store, target.tenantId, target.deviceId), personRights(services, target, owner)]);
  if (!device || device.status !== 'connected') return notDispatched(jobs);
  const downloads = await collectDownloads(services, target, jobsNeedingDownloads(jobs, person), log);
  const time = now();
  const planned = planRelease(jobs, target, time, downloads, person);
  // Jobs that will not go are marked first, before anything is claimed or sent: held by print
  // rights (queued, with the reason), or failed because their document is gone.
  const unsent = afterUnsentMarks(
    planned,
    await Promise.allSettled(planned.holds.map(({ job, reason }) => markHeld(store, job, reason))),
    await Promise.allSettled(
      planned.missing.map((job) =>
        transitionJob(store, job, 'missing', time, { failedReason: 'document-missing', failedAt: time.toISOString() }),
      ),
    ),
  );
  if (unsent.next === 'fail') throw unsent.error;
  const { plan } = unsent;
  if (plan.holds.length > 0) log.info('release-held', { deviceId: target.deviceId, jobs: plan.holds.length });
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
    await Promise.allSettled(claims.claimed.map((job) => transitionJob(store, job, 'release', time, markFor(plan, job, target, time)))),
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

/**
 * Marks a job held by print rights (it stays as it is otherwise): one write conditional on its
 * ETag, none when it says so already. 409 when it changed meanwhile (cancelled, released).
 */
async function markHeld(store: Store, job: JobDoc, reason: HoldReason): Promise<JobDoc> {
  const held = heldJob(job, reason);
  if (!held) return job;
  try {
    return await replaceIfUnchanged(store.container('jobs'), held, job.pk);
  } catch (error) {
    if (isPreconditionFailed(error)) throw new Conflict('the job changed at the same time; read it again', { state: job.state });
    throw error;
  }
}

/** Which jobs a session approval releases: all the user's queued jobs, or those of them named (`jobIds`). */
export interface ReleaseChoice {
  readonly jobIds?: readonly string[];
  readonly owner?: ReleaseOwner;
}

/**
 * The user's queued jobs to the printer they are at (on session approval): all of them (oldest
 * first, at most MAX_JOBS_PER_RELEASE), or only those named in `jobIds`, each a point read in
 * the user's partition. A named id that is not one of the user's queued jobs (unknown, another
 * person's, already released, failed) is skipped and counted (docs/flows.md#choosing-jobs-at-the-printer).
 */
export async function releaseQueuedJobs(
  services: Services,
  target: ReleaseTarget,
  log: Logger,
  choice: ReleaseChoice = {},
): Promise<ReleaseOutcome> {
  const { store, now } = services;
  if (!choice.jobIds) {
    const jobs = await queuedJobs(store, target.tenantId, target.userId, now(), MAX_JOBS_PER_RELEASE);
    return (await releaseJobs(services, target, jobs, log, choice.owner)).outcome;
  }
  const ids = [...new Set(choice.jobIds)].slice(0, MAX_JOBS_PER_RELEASE);
  const found = await Promise.all(ids.map((id) => readJob(store, target.tenantId, target.userId, id, now())));
  const jobs = found.filter((job): job is JobDoc => job?.state === 'queued');
  const { outcome } = await releaseJobs(services, target, jobs, log, choice.owner);
  const skipped = choice.jobIds.length - jobs.length;
  return { ...outcome, ...(skipped > 0 ? { skipped } : {}) };
}

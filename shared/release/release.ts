import type { ServiceBusMessage } from '@azure/service-bus';
import { readDevice } from '../devices/devices.js';
import { queuedJobs, transitionJob, type JobDoc } from '../jobs/jobs.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';

/**
 * Release: one message per job to the printer's subscription (SPEC §3.7, §6).
 *
 * Send first, then mark the jobs released. If the send fails the jobs stay `queued` and the
 * caller is told: nothing is lost. The message id is `<jobId>:<sessionId>`, so a retried
 * dispatch within the same session is dropped by the topic's duplicate detection: a job is
 * released at most once per session.
 */
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

export const RELEASE_MESSAGE_TTL_SECONDS = 20 * 60;
/** Releases per request: one batch's worth; more wait for the next release. */
export const MAX_JOBS_PER_RELEASE = 100;

export function releaseMessage(job: JobDoc, target: ReleaseTarget, now: Date): ServiceBusMessage {
  return {
    messageId: `${job.id}:${target.sessionId}`,
    correlationId: target.sessionId,
    contentType: 'application/json',
    timeToLive: RELEASE_MESSAGE_TTL_SECONDS * 1000,
    applicationProperties: { printerId: target.deviceId },
    body: {
      type: 'release',
      jobId: job.id,
      fileName: job.fileName,
      options: job.options,
      // OneDrive download URLs arrive with the OneDrive slice; until then a job has none.
      downloadUrl: null,
      downloadUrlExpiresAt: null,
      user: { username: job.username },
      releasedAt: now.toISOString(),
    },
  };
}

/** The outcome, and the jobs as written after their release (so callers need not read them again). */
export interface ReleaseResult {
  readonly outcome: ReleaseOutcome;
  readonly releasedJobs: readonly JobDoc[];
}

export async function releaseJobs(services: Services, target: ReleaseTarget, jobs: readonly JobDoc[], log: Logger): Promise<ReleaseResult> {
  const notDispatched = { outcome: { released: 0, queued: jobs.length, dispatched: false }, releasedJobs: [] };
  if (jobs.length === 0) return { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] };
  const { store, now } = services;
  const device = await readDevice(store, target.tenantId, target.deviceId);
  if (!device || device.status !== 'connected') return notDispatched;
  const time = now();
  try {
    const messaging = await services.messaging();
    await messaging.sendBatch(device.topic, jobs.map((job) => releaseMessage(job, target, time)));
  } catch (error) {
    log.warn('release-dispatch-failed', { deviceId: target.deviceId, jobs: jobs.length, error: (error as Error)?.name });
    return notDispatched;
  }
  const releasedJobs: JobDoc[] = [];
  for (const job of jobs) {
    try {
      releasedJobs.push(
        await transitionJob(store, job, 'release', time, { releasedTo: target.deviceId, releaseId: target.sessionId, releasedAt: time.toISOString() }),
      );
    } catch {
      // Cancelled or changed meanwhile: the message is out; the printer reports what it printed.
    }
  }
  log.info('release-dispatched', { deviceId: target.deviceId, jobs: jobs.length, released: releasedJobs.length });
  return { outcome: { released: releasedJobs.length, queued: 0, dispatched: true }, releasedJobs };
}

/** All of the user's queued jobs, to the printer they are at (on session approval). */
export async function releaseQueuedJobs(services: Services, target: ReleaseTarget, log: Logger): Promise<ReleaseOutcome> {
  const jobs = await queuedJobs(services.store, target.tenantId, target.userId, services.now(), MAX_JOBS_PER_RELEASE);
  return (await releaseJobs(services, target, jobs, log)).outcome;
}

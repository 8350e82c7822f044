import { describe, expect, it } from 'vitest';
import { CLEANUP_MAX_ATTEMPTS, cleanupRetrySeconds, pendingCleanup, SWEEP_LEASE_SECONDS } from '../../shared/jobs/after-print.js';
import { newJob, ONEDRIVE_JOB_GRACE_SECONDS } from '../../shared/jobs/jobs.js';
import { defaultTenantPolicy, type TenantPolicy } from '../../shared/tenants/policy.js';

/**
 * The after-print rules without a store or Graph (shared/jobs/after-print.ts,
 * docs/flows.md#after-printing): which jobs take a clean-up, how long retries wait, and that they
 * end inside the time a OneDrive job's item is kept past its expiry.
 */
const owner = { tenantId: 't1', userId: 'u1', email: 'uma@example.com', username: 'uma' };
const t0 = new Date('2026-03-01T10:00:00.000Z');
const policy = (afterPrint: TenantPolicy['afterPrint']): TenantPolicy => ({ ...defaultTenantPolicy, afterPrint });
const withFile = newJob('j1', owner, 24, { fileName: 'a.pdf', size: 1 }, { itemId: 'ITEM' }, t0);
const uploadPending = newJob('j2', owner, 24, { fileName: 'a.pdf', size: 1 }, { upload: true }, t0);
const metadataOnly = newJob('j3', owner, 24, { fileName: 'a.pdf', size: 1 }, undefined, t0);

describe('pendingCleanup: what a final transition marks', () => {
  it('delete and move mark a job with a OneDrive file, due at once, no attempts yet', () => {
    expect(pendingCleanup(policy('delete'), withFile, t0)).toEqual({ cleanup: { action: 'delete', due: t0.toISOString(), attempts: 0 } });
    expect(pendingCleanup(policy('move'), withFile, t0)).toEqual({ cleanup: { action: 'move', due: t0.toISOString(), attempts: 0 } });
  });

  it('nothing under keep (the default), nor for a job without a file (metadata only, or never uploaded)', () => {
    expect(defaultTenantPolicy.afterPrint).toBe('keep');
    expect(pendingCleanup(policy('keep'), withFile, t0)).toEqual({});
    expect(pendingCleanup(policy('delete'), uploadPending, t0)).toEqual({});
    expect(pendingCleanup(policy('move'), metadataOnly, t0)).toEqual({});
  });
});

describe('retries', () => {
  it('wait 5 minutes, doubling, at most 6 hours apart', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(cleanupRetrySeconds)).toEqual([300, 600, 1200, 2400, 4800, 9600, 19200, 21600]);
  });

  it('end (given up) well inside the grace a OneDrive job is kept past its expiry, so an expired job is cleaned up or given up before Cosmos deletes it', () => {
    let total = 0;
    for (let attempt = 1; attempt < CLEANUP_MAX_ATTEMPTS; attempt++) total += cleanupRetrySeconds(attempt) + SWEEP_LEASE_SECONDS + 300;
    expect(total).toBeLessThan(ONEDRIVE_JOB_GRACE_SECONDS / 2);
  });

  it('a sweep leaves a job alone for longer than an invocation may run (host.json functionTimeout: 2 minutes)', () => {
    expect(SWEEP_LEASE_SECONDS).toBeGreaterThan(120);
    expect(cleanupRetrySeconds(1)).toBeGreaterThan(SWEEP_LEASE_SECONDS);
  });
});

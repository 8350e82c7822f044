import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLEANUP_MAX_ATTEMPTS, cleanupRetrySeconds, SWEEP_LEASE_SECONDS } from '../../shared/jobs/after-print.js';
import { jobPartition, type JobDoc } from '../../shared/jobs/jobs.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, freshTenant, uniqueName } from '../helpers/fixtures.js';
import { consentToOneDrive, queuedOneDriveJob, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, lastCosmosRequests, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * docs/flows.md#after-printing end to end: the tenant's `afterPrint` (keep, delete, move) done
 * through the real Graph client against the Graph stand-in when the printer reports printed, when
 * a job is cancelled and when it expires; Graph failing during the report (the report stands, the
 * clean-up waits) and the timer's sweep finishing it once Graph is back, once even with two
 * sweeps at once.
 */
const admin: Person = { email: 'ada@after.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@after.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '4711' };
const figures = { pages: 2, sheets: 1, colorPages: 0, duplex: true, paperSize: 'A4' };

describe('after printing: keep, delete or move the OneDrive file', () => {
  let ms: LocalMicrosoft;
  let host: TestHost;
  /** Cosmos requests of a printed report under `keep` (the first test), to see what a clean-up adds. */
  let keepCost: number | undefined;

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft());
  });
  afterAll(async () => {
    await host?.close();
  });

  /** A tenant of its own with `policy`, Uma with her OneDrive connected (a Microsoft account no other test uses), a printer. */
  async function world(policy: Record<string, unknown>) {
    const tenant = await freshTenant(host, 'after', admin, [user], policy);
    const upn = `${uniqueName('uma')}@contoso.example`;
    const token = tenant.users[0]!.token;
    const { callbackUrl } = await consentToOneDrive(host, ms, token, upn);
    expect((await fetch(callbackUrl, { redirect: 'manual' })).status).toBe(200);
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 3');
    return { tenantId: tenant.id, userId: tenant.users[0]!.id, token, upn, printer };
  }

  type World = Awaited<ReturnType<typeof world>>;

  /** A job registered, its file uploaded straight to the Print folder, and made ready: queued. */
  async function queuedJob(w: World, fileName: string): Promise<string> {
    return (await queuedOneDriveJob(host, w.token, fileName, 2048)).jobId;
  }

  /** The user approves a session at the printer: every queued job goes out. Returns how the printer reports `jobId` printed. */
  async function released(w: World, jobId: string) {
    const { release, token } = await approvedSession(host, w.printer, w.token);
    expect(release.released).toBeGreaterThanOrEqual(1);
    return () => api(host, token, 'POST', `/api/jobs/${jobId}/printed`, figures);
  }

  async function printed(w: World, jobId: string) {
    return (await released(w, jobId))();
  }

  /** Graph answers 503 to everything (for longer than any retry waits) while `work` runs. */
  async function graphDown<T>(work: () => Promise<T>): Promise<T> {
    ms.throttleNext(1_000_000, 120, 503);
    try {
      return await work();
    } finally {
      ms.throttleNext(0, 0);
    }
  }

  async function storedJob(w: World, jobId: string): Promise<JobDoc | undefined> {
    const { store } = await host.services();
    return (await store.container('jobs').item(jobId, jobPartition(w.tenantId, w.userId)).read<JobDoc>()).resource;
  }

  const graphCalls = (method: string, itemPath: RegExp) =>
    ms.requests.filter((r) => r.method === method && itemPath.test(r.path) && r.status < 300).length;

  it('keep: the file stays in the Print folder, nothing is pending', async () => {
    const w = await world({ afterPrint: 'keep' });
    const jobId = await queuedJob(w, 'Kept.pdf');
    const report = await printed(w, jobId);
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body).toMatchObject({ state: 'printed', printed: figures });
    expect(report.body).not.toHaveProperty('cleanup');
    expect(report.body).not.toHaveProperty('cleanedUp');
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Kept.pdf']);
    expect(ms.recycleBin(w.upn)).toEqual([]);
    keepCost = lastCosmosRequests(host, '/api/jobs/{id}/printed');
  });

  it('delete: the printed file goes to the user’s OneDrive recycle bin, and the job says so', async () => {
    const w = await world({ afterPrint: 'delete' });
    const jobId = await queuedJob(w, 'Payslip.pdf');
    const report = await printed(w, jobId);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ state: 'printed', cleanedUp: 'deleted' });
    expect(report.body).not.toHaveProperty('cleanup');
    expect(ms.listFolder(w.upn, 'Print')).toEqual([]);
    expect(ms.recycleBin(w.upn)).toEqual([{ name: 'Payslip.pdf', deletedFrom: '/Print' }]);
    // What the clean-up adds to the report: the OneDrive link, the user's MSAL cache at most, and whether another job
    // prints the same file (one query in the owner's partition, after the SDK's query plan) (docs/data.md#cosmos-db-requests-per-operation).
    if (keepCost !== undefined) expect(lastCosmosRequests(host, '/api/jobs/{id}/printed') - keepCost).toBeLessThanOrEqual(4);
    expect((await api(host, w.token, 'GET', `/api/jobs/${jobId}`)).body).toMatchObject({ cleanedUp: 'deleted' });
  });

  it('move: into Print/Printed, created when missing; a second file of the same name is renamed', async () => {
    const w = await world({ afterPrint: 'move' });
    const first = await queuedJob(w, 'Menu.pdf');
    expect((await printed(w, first)).body).toMatchObject({ state: 'printed', cleanedUp: 'moved' });
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Printed']);
    expect(ms.listFolder(w.upn, 'Print/Printed')).toEqual(['Menu.pdf']);

    const second = await queuedJob(w, 'Menu.pdf');
    expect((await printed(w, second)).body).toMatchObject({ state: 'printed', cleanedUp: 'moved' });
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Printed']);
    expect(ms.listFolder(w.upn, 'Print/Printed')).toEqual(['Menu 1.pdf', 'Menu.pdf']);
    expect(ms.recycleBin(w.upn)).toEqual([]);
  });

  it('Graph down during the report: the report is recorded, the job shows the clean-up pending; Graph back, the timer does it once', async () => {
    const w = await world({ afterPrint: 'delete' });
    const jobId = await queuedJob(w, 'Slides.pdf');
    const report = await released(w, jobId);
    await graphDown(async () => {
      const reported = await report();
      expect(reported.status, JSON.stringify(reported.body)).toBe(200);
      const { body } = reported;
      expect(body).toMatchObject({
        state: 'printed',
        printed: figures,
        cleanup: { action: 'delete', state: 'pending', nextAttemptAt: expect.any(String) },
      });
      // The first retry waits; the sweep before then (and with Graph still down) changes nothing.
      const wait = Date.parse(body.cleanup.nextAttemptAt) - Date.parse(body.printedAt);
      expect(wait).toBeGreaterThanOrEqual(cleanupRetrySeconds(1) * 1000);
      expect(wait).toBeLessThan(cleanupRetrySeconds(1) * 1000 + 10_000);
      await host.runTimer('sweepJobs');
      expect((await storedJob(w, jobId))!.cleanup).toMatchObject({ action: 'delete', attempts: 1 });
    });
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Slides.pdf']);

    host.advanceClock(cleanupRetrySeconds(1) + 1);
    const deletes = graphCalls('DELETE', /^\/v1\.0\/me\/drive\/items\//);
    await host.runTimer('sweepJobs');
    expect(ms.recycleBin(w.upn)).toEqual([{ name: 'Slides.pdf', deletedFrom: '/Print' }]);
    const job = await api(host, w.token, 'GET', `/api/jobs/${jobId}`);
    expect(job.body).toMatchObject({ state: 'printed', printed: figures, cleanedUp: 'deleted' });
    expect(job.body).not.toHaveProperty('cleanup');
    // Again: nothing left to do for this job.
    host.advanceClock(SWEEP_LEASE_SECONDS + 1);
    await host.runTimer('sweepJobs');
    expect(graphCalls('DELETE', /^\/v1\.0\/me\/drive\/items\//) - deletes).toBe(1);
  });

  it('two sweeps at once do a clean-up once', async () => {
    const w = await world({ afterPrint: 'move' });
    const jobId = await queuedJob(w, 'Race.pdf');
    const report = await released(w, jobId);
    expect((await graphDown(report)).body).toMatchObject({ cleanup: { action: 'move' } });
    host.advanceClock(cleanupRetrySeconds(1) + 1);
    const moves = graphCalls('PATCH', /^\/v1\.0\/me\/drive\/items\//);
    await Promise.all([host.runTimer('sweepJobs'), host.runTimer('sweepJobs')]);
    expect(graphCalls('PATCH', /^\/v1\.0\/me\/drive\/items\//) - moves).toBe(1);
    expect(ms.listFolder(w.upn, 'Print/Printed')).toEqual(['Race.pdf']);
    expect((await storedJob(w, jobId))!.cleanedUp).toBe('moved');
  });

  it(`a clean-up Graph keeps refusing is given up after ${CLEANUP_MAX_ATTEMPTS} attempts, the file left where it is`, async () => {
    const w = await world({ afterPrint: 'delete' });
    const jobId = await queuedJob(w, 'Stubborn.pdf');
    const report = await released(w, jobId);
    await graphDown(async () => {
      expect((await report()).body).toMatchObject({ cleanup: { state: 'pending' } });
      for (let attempt = 1; attempt < CLEANUP_MAX_ATTEMPTS; attempt++) {
        host.advanceClock(cleanupRetrySeconds(attempt) + 1);
        await host.runTimer('sweepJobs');
      }
    });
    const job = await storedJob(w, jobId);
    expect(job).not.toHaveProperty('cleanup');
    expect(job).not.toHaveProperty('cleanedUp');
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Stubborn.pdf']);
    expect(host.logs.some((line) => line.includes('job-cleanup-given-up') && line.includes(jobId))).toBe(true);
    // The log line names the job, never its file.
    expect(host.logs.filter((line) => line.includes('Stubborn'))).toEqual([]);
  });

  it('a disconnected OneDrive: the clean-up cannot be done by us and is not retried; the report stands', async () => {
    const w = await world({ afterPrint: 'delete' });
    const jobId = await queuedJob(w, 'Orphan.pdf');
    const { token } = await approvedSession(host, w.printer, w.token);
    expect((await api(host, w.token, 'DELETE', '/api/onedrive')).status).toBe(204);
    const report = await api(host, token, 'POST', `/api/jobs/${jobId}/printed`, figures);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ state: 'printed' });
    expect(report.body).not.toHaveProperty('cleanup');
    expect(report.body).not.toHaveProperty('cleanedUp');
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Orphan.pdf']);
  });

  it('consent withdrawn at Microsoft: the same, and the link asks the user to connect again', async () => {
    const w = await world({ afterPrint: 'move' });
    const jobId = await queuedJob(w, 'Withdrawn.pdf');
    const report = await released(w, jobId);
    ms.revokeConsent(w.upn);
    try {
      const reported = await report();
      expect(reported.status).toBe(200);
      expect(reported.body).not.toHaveProperty('cleanup');
      expect(reported.body).not.toHaveProperty('cleanedUp');
    } finally {
      ms.restoreConsent(w.upn);
    }
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Withdrawn.pdf']);
    expect((await api(host, w.token, 'GET', '/api/me')).body.onedrive).toMatchObject({ status: 'reconnect-required' });
    expect(host.logs.some((line) => line.includes('job-cleanup-not-done') && line.includes('onedrive-reconnect-required'))).toBe(true);
  });

  it('a cancelled job follows the policy too (move)', async () => {
    const w = await world({ afterPrint: 'move' });
    const jobId = await queuedJob(w, 'Draft.pdf');
    const cancelled = await api(host, w.token, 'DELETE', `/api/jobs/${jobId}`);
    expect(cancelled.status).toBeLessThan(300);
    expect(ms.listFolder(w.upn, 'Print/Printed')).toEqual(['Draft.pdf']);
    expect(await storedJob(w, jobId)).toMatchObject({ state: 'cancelled', cleanedUp: 'moved' });
  });

  it('one Print-folder file printed twice: the first job leaves it to the second, which deletes it', async () => {
    const w = await world({ afterPrint: 'delete' });
    const itemId = ms.putFile(w.upn, 'Print/Twice.pdf', randomBytes(1024));
    const { token: session } = await approvedSession(host, w.printer, w.token);
    const first = await api(host, session, 'POST', '/api/onedrive/print', { itemId });
    const second = await api(host, session, 'POST', '/api/onedrive/print', { itemId });
    expect([first.status, second.status], JSON.stringify(second.body)).toEqual([201, 201]);
    const report = (jobId: string) => api(host, session, 'POST', `/api/jobs/${jobId}/printed`, figures);

    const one = await report(first.body.id);
    expect(one.body).toMatchObject({ state: 'printed' });
    expect(one.body).not.toHaveProperty('cleanedUp');
    expect(one.body).not.toHaveProperty('cleanup');
    expect(ms.listFolder(w.upn, 'Print')).toEqual(['Twice.pdf']);

    expect((await report(second.body.id)).body).toMatchObject({ state: 'printed', cleanedUp: 'deleted' });
    expect(ms.recycleBin(w.upn)).toEqual([{ name: 'Twice.pdf', deletedFrom: '/Print' }]);
  });

  it('a file the user moved out of the Print folder is theirs: the clean-up leaves it alone', async () => {
    const w = await world({ afterPrint: 'delete' });
    const jobId = await queuedJob(w, 'Keepsake.pdf');
    // As if the user had moved it to another folder of their drive: the job now names a file outside Print.
    const elsewhere = ms.putFile(w.upn, 'Documents/Keepsake.pdf', randomBytes(512));
    const { store } = await host.services();
    const job = (await storedJob(w, jobId))!;
    await store.container('jobs').items.upsert({ ...job, onedrive: { itemId: elsewhere } });
    expect((await api(host, w.token, 'DELETE', `/api/jobs/${jobId}`)).status).toBeLessThan(300);
    expect(ms.listFolder(w.upn, 'Documents')).toEqual(['Keepsake.pdf']);
    expect(ms.recycleBin(w.upn)).toEqual([]);
    const cancelled = await storedJob(w, jobId);
    expect(cancelled).toMatchObject({ state: 'cancelled' });
    expect(cancelled).not.toHaveProperty('cleanup');
    expect(cancelled).not.toHaveProperty('cleanedUp');
  });

  // Last: it moves the host's clock past an hour.
  it('an expired job follows the policy: the sweep deletes its file, then the job item itself', async () => {
    const w = await world({ afterPrint: 'delete', jobRetentionHours: 1 });
    // Released but never reported (the printer died with it): its file follows the policy as well.
    const lost = await queuedJob(w, 'Lost.pdf');
    await released(w, lost);
    const jobId = await queuedJob(w, 'Forgotten.pdf');
    const stored = (await storedJob(w, jobId))!;
    // Cosmos keeps the item past its expiry (the sweep must find it), though the API no longer shows it.
    expect(stored.ttl).toBeGreaterThan(3600);
    host.advanceClock(3600 + SWEEP_LEASE_SECONDS + 1);
    expect((await api(host, w.token, 'GET', `/api/jobs/${jobId}`)).status).toBeGreaterThanOrEqual(400);
    expect(await storedJob(w, jobId)).toBeDefined();
    expect((await storedJob(w, lost))?.state).toBe('released');
    await host.runTimer('sweepJobs');
    expect(ms.recycleBin(w.upn)).toEqual(
      expect.arrayContaining([
        { name: 'Forgotten.pdf', deletedFrom: '/Print' },
        { name: 'Lost.pdf', deletedFrom: '/Print' },
      ]),
    );
    expect(ms.recycleBin(w.upn)).toHaveLength(2);
    expect(await storedJob(w, jobId)).toBeUndefined();
    expect(await storedJob(w, lost)).toBeUndefined();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { api, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Job retention in hours (tenant policy `jobRetentionHours`, 1 to 2160; docs/data.md#jobs-jobs):
 * a job lives that many hours instead of `jobRetentionDays`, and gone means gone for its owner at
 * once. Setting the days alone takes the hours away, so an admin going back to days gets days.
 */
const admin: Person = { email: 'ops@fabrikam.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const HOUR = 3600;

describe('job retention in hours', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  const newJob = async (token: string) => {
    const created = await api(host, token, 'POST', '/api/jobs', { fileName: 'Soon.pdf', size: 100 });
    expect(created.status).toBe(201);
    return created.body as { id: string; createdAt: string; expiresAt: string };
  };
  const lifetimeSeconds = (job: { createdAt: string; expiresAt: string }) => (Date.parse(job.expiresAt) - Date.parse(job.createdAt)) / 1000;

  /** A fresh access token for the tenant's admin: the one from before the clock moved lives 20 minutes. */
  const signIn = async (slug: string, person: Person) => (await mobileSignIn(host, slug, person)).access_token;

  it('one hour: a new job is there at 1 h - 1 s and gone at 1 h + 1 s', async () => {
    const person = individual(admin);
    const tenant = await freshTenant(host, 'fabrikam', person);
    const patched = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { jobRetentionHours: 1 } });
    expect(patched.status).toBe(200);
    expect(patched.body.policy).toMatchObject({ jobRetentionHours: 1, jobRetentionDays: 7 });

    const job = await newJob(tenant.admin.token);
    expect(lifetimeSeconds(job)).toBe(HOUR);
    let moved = 0;
    /** Moves the server's clock to `seconds` after the job's expiry (the test's own time counted, however slow the machine). */
    const toExpiryPlus = (seconds: number) => {
      const step = (Date.parse(job.expiresAt) + seconds * 1000 - (Date.now() + moved * 1000)) / 1000;
      host.advanceClock(step);
      moved += step;
    };
    try {
      toExpiryPlus(-60);
      const token = await signIn(tenant.slug, person);
      toExpiryPlus(-1);
      expect((await api(host, token, 'GET', `/api/jobs/${job.id}`)).status).toBe(200);
      toExpiryPlus(1);
      expect((await api(host, token, 'GET', `/api/jobs/${job.id}`)).status).toBe(404);
      expect((await api(host, token, 'GET', '/api/jobs')).body.items).toEqual([]);
    } finally {
      host.advanceClock(-moved);
    }
  });

  it('setting the days alone takes the hours away: new jobs live the days again', async () => {
    const tenant = await freshTenant(host, 'fabrikam', individual(admin));
    const token = tenant.admin.token;
    expect((await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionHours: 5 } })).status).toBe(200);
    expect(lifetimeSeconds(await newJob(token))).toBe(5 * HOUR);

    const days = await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionDays: 3 } });
    expect(days.status).toBe(200);
    expect(days.body.policy.jobRetentionDays).toBe(3);
    expect(days.body.policy).not.toHaveProperty('jobRetentionHours');
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy).not.toHaveProperty('jobRetentionHours');
    expect(lifetimeSeconds(await newJob(token))).toBe(3 * 24 * HOUR);

    // Both at once: the hours win, the days are kept for when the hours go.
    const both = await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionDays: 2, jobRetentionHours: 30 } });
    expect(both.body.policy).toMatchObject({ jobRetentionDays: 2, jobRetentionHours: 30 });
    expect(lifetimeSeconds(await newJob(token))).toBe(30 * HOUR);
  });

  it('0 and 2161 hours are refused with a 400 problem naming the field; the policy is unchanged', async () => {
    const tenant = await freshTenant(host, 'fabrikam', individual(admin));
    const token = tenant.admin.token;
    for (const hours of [0, 2161, 1.5]) {
      const refused = await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionHours: hours } });
      expect(refused.status, String(hours)).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(['/body/policy/jobRetentionHours']);
    }
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy).not.toHaveProperty('jobRetentionHours');
    expect((await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionHours: 2160 } })).body.policy.jobRetentionHours).toBe(
      2160,
    );
  });
});

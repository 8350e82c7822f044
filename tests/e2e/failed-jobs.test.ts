import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedSession, enrolledPrinter, freshTenant, individual } from '../helpers/fixtures.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * A printer that could not print a job reports it failed (`POST /api/jobs/{id}/printed` with
 * `{ "failed": reason }`, SPEC §9; docs/flows.md#release-to-printers): the job waits, `failed`,
 * until its owner releases that one job again or cancels it. A session's "release all queued"
 * never takes it, or a broken document would come out (and fail) at every session.
 */
const admin: Person = { email: 'ops@fabrikam.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const user: Person = { email: 'uma@fabrikam.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

describe('a job the printer could not print', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** Uma with one queued job and the printers named, enrolled by the admin. */
  async function world(...names: string[]) {
    const tenant = await freshTenant(host, 'fabrikam', admin, [individual(user)]);
    const userToken = tenant.users[0]!.token;
    const printers: EnrolledPrinter[] = [];
    for (const name of names) printers.push(await enrolledPrinter(host, tenant.admin.token, name));
    return { userToken, printers };
  }

  async function queuedJob(userToken: string, fileName: string) {
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: 4321 });
    expect(created.status).toBe(201);
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body.id as string;
  }

  /** The messages waiting in the printer's subscription, taken off it. */
  async function releasesAt(printer: EnrolledPrinter, count: number) {
    const credentials = await amqpCredentials(host, printer.access);
    const client = printerClient(credentials);
    try {
      return await receiveReleases(client, credentials.entityPath, count, 800);
    } finally {
      await client.close();
    }
  }

  /** A job released to `printer` in a session approved there, and that session's token. */
  async function releasedJob(fileName: string, userToken: string, printer: EnrolledPrinter) {
    const jobId = await queuedJob(userToken, fileName);
    const session = await approvedSession(host, printer, userToken);
    expect(session.release).toEqual({ released: 1, queued: 0, dispatched: true });
    return { jobId, session: session.token };
  }

  it('failed with a reason: the job says why and when, and is listed as failed', async () => {
    const { userToken, printers } = await world('MFP-1');
    const { jobId, session } = await releasedJob('Jammed.pdf', userToken, printers[0]!);
    const reported = await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, { failed: 'paper-jam' });
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({ id: jobId, state: 'failed', failedReason: 'paper-jam', failedAt: expect.any(String) });
    expect(reported.body).not.toHaveProperty('printedAt');
    expect((await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body).toMatchObject({ state: 'failed', failedReason: 'paper-jam' });
    const failed = await api(host, userToken, 'GET', '/api/jobs?state=failed');
    expect(failed.body.items.map((job: { id: string }) => job.id)).toEqual([jobId]);
    // Failed is not printed: a late "printed" report for it is refused like any other wrong state.
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`)).status).toBe(409);
  });

  it('a reason outside the list, or any other field, is a 400 problem naming the field; the job stays released', async () => {
    const { userToken, printers } = await world('MFP-2');
    const { jobId, session } = await releasedJob('Odd.pdf', userToken, printers[0]!);
    for (const [body, pointer] of [
      [{ failed: 'on-fire' }, '/body/failed'],
      [{ failed: '' }, '/body/failed'],
      [{ failed: 7 }, '/body/failed'],
      [{ reason: 'paper-jam' }, '/body/reason'],
    ] as const) {
      const bad = await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(bad.body.errors.map((error: { pointer: string }) => error.pointer)).toContain(pointer);
    }
    expect((await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body.state).toBe('released');
  });

  it('only the printer the job was released to may report it failed (409 from another printer’s session)', async () => {
    const { userToken, printers } = await world('MFP-A', 'MFP-B');
    const { jobId } = await releasedJob('Elsewhere.pdf', userToken, printers[0]!);
    const atB = await approvedSession(host, printers[1]!, userToken);
    const refused = await api(host, atB.token, 'POST', `/api/jobs/${jobId}/printed`, { failed: 'printer-error' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/another printer/);
    expect((await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body).toMatchObject({
      state: 'released',
      releasedTo: printers[0]!.deviceId,
    });
  });

  it('failed → released again in the same session (a new message, not dropped as a duplicate) → printed', async () => {
    const { userToken, printers } = await world('MFP-3');
    const printer = printers[0]!;
    const { jobId, session } = await releasedJob('Retry.pdf', userToken, printer);
    const first = await releasesAt(printer, 2);
    expect(first.map((message) => message.messageId)).toEqual([`${jobId}:${first[0]!.correlationId}`]);
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, { failed: 'out-of-paper' })).body.state).toBe('failed');

    const again = await api(host, session, 'POST', `/api/jobs/${jobId}/release`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ state: 'released', releasedTo: printer.deviceId });
    expect(again.body).not.toHaveProperty('failedReason');
    expect(again.body).not.toHaveProperty('failedAt');
    const second = await releasesAt(printer, 2);
    expect(second.map((message) => message.body.jobId)).toEqual([jobId]);
    expect(second[0]!.messageId).toBe(`${jobId}:${first[0]!.correlationId}:1`);

    const printed = await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, {});
    expect(printed.status).toBe(200);
    expect(printed.body).toMatchObject({ state: 'printed', printedAt: expect.any(String) });
  });

  it('a session approval releases the queued jobs and leaves a failed one where it is', async () => {
    const { userToken, printers } = await world('MFP-4');
    const printer = printers[0]!;
    const { jobId: failedId, session } = await releasedJob('Unreadable.pdf', userToken, printer);
    await releasesAt(printer, 2);
    expect((await api(host, session, 'POST', `/api/jobs/${failedId}/printed`, { failed: 'document-unreadable' })).status).toBe(200);
    const queuedId = await queuedJob(userToken, 'Fine.pdf');

    const next = await approvedSession(host, printer, userToken);
    expect(next.release).toEqual({ released: 1, queued: 0, dispatched: true });
    expect((await releasesAt(printer, 3)).map((message) => message.body.jobId)).toEqual([queuedId]);
    expect((await api(host, userToken, 'GET', `/api/jobs/${failedId}`)).body).toMatchObject({
      state: 'failed',
      failedReason: 'document-unreadable',
    });
  });

  it('a failed job can be cancelled by its owner; a released one still cannot', async () => {
    const { userToken, printers } = await world('MFP-5');
    const { jobId, session } = await releasedJob('Give up.pdf', userToken, printers[0]!);
    expect((await api(host, userToken, 'DELETE', `/api/jobs/${jobId}`)).status).toBe(409);
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, { failed: 'cancelled-at-panel' })).status).toBe(200);
    expect((await api(host, userToken, 'DELETE', `/api/jobs/${jobId}`)).status).toBe(204);
    const cancelled = await api(host, userToken, 'GET', `/api/jobs/${jobId}`);
    expect(cancelled.body.state).toBe('cancelled');
    expect(cancelled.body).not.toHaveProperty('failedReason');
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/release`)).status).toBe(409);
  });
});

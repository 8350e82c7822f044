import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedSession, enrolledPrinter, freshTenant, individual } from '../helpers/fixtures.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, lastCosmosRequests, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * What was printed (docs/flows.md#what-was-printed; SPEC §9 printed report): the printer reports
 * pages, sheets, colour pages, duplex and paper size, checked against the options it was sent;
 * the figures show on the job and in the owner's export. A printer whose session has ended
 * reports with its own device token and `?user=` (the release message's `user.id`), only for
 * jobs released to it.
 */
const admin: Person = { email: 'ops@fabrikam.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const user: Person = { email: 'uma@fabrikam.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };
const options = { copies: 2, duplex: true, color: true, paperSize: 'A4' };
const figures = { pages: 8, sheets: 4, colorPages: 6, duplex: true, paperSize: 'A4' };
/** Past a session token's 20 minutes (and the device token's, which is refreshed). */
const PAST_SESSION_SECONDS = 21 * 60;
const PRINTED_ROUTE = '/api/jobs/{id}/printed';

describe('the printed report', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** Uma in a tenant of her own, one queued job sent to `printer` in a session approved there. */
  async function world(...names: string[]) {
    const tenant = await freshTenant(host, 'fabrikam', admin, [individual(user)]);
    const uma = tenant.users[0]!;
    const printers: EnrolledPrinter[] = [];
    for (const name of names) printers.push(await enrolledPrinter(host, tenant.admin.token, name));
    const created = await api(host, uma.token, 'POST', '/api/jobs', { fileName: 'Plan.pdf', size: 4321, options });
    expect((await api(host, uma.token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    const session = await approvedSession(host, printers[0]!, uma.token);
    expect(session.release).toEqual({ released: 1, queued: 0, dispatched: true });
    return { tenant, uma, printers, jobId: created.body.id as string, session: session.token };
  }

  /** The release messages waiting for `printer`, taken off its subscription. */
  async function releasesAt(printer: EnrolledPrinter, count: number) {
    const credentials = await amqpCredentials(host, printer.access);
    const client = printerClient(credentials);
    try {
      return await receiveReleases(client, credentials.entityPath, count, 800);
    } finally {
      await client.close();
    }
  }

  /** A fresh device access token for `printer`, as the agent refreshes it. */
  async function deviceToken(printer: EnrolledPrinter) {
    const answer = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: printer.refresh });
    expect(answer.status).toBe(200);
    printer.refresh = answer.body.refresh_token;
    return answer.body.access_token as string;
  }

  const jobOf = async (token: string, jobId: string) => (await api(host, token, 'GET', `/api/jobs/${jobId}`)).body;

  it('figures that fit the options are recorded on the job and in the owner’s export; the release names the user', async () => {
    const { uma, printers, jobId, session } = await world('MFP-1');
    const [message] = await releasesAt(printers[0]!, 2);
    expect(message!.body).toMatchObject({ jobId, options, user: { id: uma.id, username: uma.person.username } });

    const reported = await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, figures);
    expect(reported.status).toBe(200);
    expect(reported.body).toMatchObject({ state: 'printed', printed: figures, printedAt: expect.any(String) });
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'printed', printed: figures });

    const exported = await api(host, uma.token, 'GET', `/api/users/${uma.id}/export`);
    expect(exported.status).toBe(200);
    const job = exported.body.jobs.find((item: { id: string }) => item.id === jobId);
    expect(job).toMatchObject({ state: 'printed', printed: figures });
  });

  it('figures that cannot be true of the options sent are a 400 problem naming each field; the job stays released', async () => {
    const { uma, jobId, session } = await world('MFP-2');
    for (const [body, pointers] of [
      [{ ...figures, paperSize: 'A3' }, ['/body/paperSize']],
      [{ ...figures, colorPages: 9 }, ['/body/colorPages']],
      [{ ...figures, sheets: 3 }, ['/body/sheets']],
      [{ ...figures, pages: 1, sheets: 1, colorPages: 0 }, ['/body/pages']],
      [{ pages: 8, sheets: 4 }, ['/body/colorPages', '/body/duplex', '/body/paperSize']],
      [{ ...figures, failed: 'paper-jam' }, ['/body/pages', '/body/sheets', '/body/colorPages', '/body/duplex', '/body/paperSize']],
      [{ ...figures, pages: 0 }, ['/body/pages']],
    ] as const) {
      const bad = await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(bad.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual(pointers);
    }
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'released' });
    expect(await jobOf(uma.token, jobId)).not.toHaveProperty('printed');
  });

  it('after the session token expired, the printer reports with its device token and ?user= (required)', async () => {
    const { uma, printers, jobId, session } = await world('MFP-3');
    host.advanceClock(PAST_SESSION_SECONDS);
    try {
      expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`, figures)).status).toBe(401);
      const device = await deviceToken(printers[0]!);
      const withoutUser = await api(host, device, 'POST', `/api/jobs/${jobId}/printed`, figures);
      expect(withoutUser.status).toBe(400);
      expect(withoutUser.body.errors).toEqual([{ pointer: '/query/user', detail: expect.stringMatching(/required/) }]);

      const reported = await api(host, device, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures);
      expect(reported.status).toBe(200);
      expect(reported.body).toMatchObject({ state: 'printed', printed: figures });
      // Said twice (its answer was lost): the job is printed already, as with a session token.
      expect((await api(host, device, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures)).status).toBe(409);
    } finally {
      host.advanceClock(-PAST_SESSION_SECONDS);
    }
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'printed', printed: figures });
  });

  it('a device token reports a failure too, a session token takes no ?user=, and a report without figures still means printed', async () => {
    const { uma, printers, jobId, session } = await world('MFP-4');
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, {})).status).toBe(400);
    const failed = await api(host, printers[0]!.access, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, { failed: 'paper-jam' });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ state: 'failed', failedReason: 'paper-jam' });
    // The printer, the job and the write (the tenant's policy is cached on the instance): docs/data.md#cosmos-db-requests-per-operation.
    expect(lastCosmosRequests(host, PRINTED_ROUTE)).toBeLessThanOrEqual(3);
    // Released again, reported printed by the session without figures (an older agent): the job, the write, and the
    // usage aggregates (a job of 0 pages: the printer's name, read once a minute, the day's patch, and the job's write
    // clearing its mark).
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/release`)).status).toBe(200);
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`)).body).toMatchObject({ state: 'printed' });
    expect(lastCosmosRequests(host, PRINTED_ROUTE)).toBeLessThanOrEqual(6);
    expect((await api(host, session, 'POST', `/api/jobs/${jobId}/printed`)).status).toBe(409);
  });

  it('the session and the device token reporting one job at once: one report is recorded, counted once in usage', async () => {
    const { tenant, uma, printers, jobId, session } = await world('MFP-R');
    const device = await deviceToken(printers[0]!);
    const answers = await Promise.all([
      api(host, session, 'POST', `/api/jobs/${jobId}/printed`, figures),
      api(host, device, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures),
      api(host, session, 'POST', `/api/jobs/${jobId}/printed`, figures),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409, 409]);
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'printed', printed: figures });
    const day = new Date().toISOString().slice(0, 10);
    const usage = await api(host, tenant.admin.token, 'GET', `/api/reports/usage?from=${day}&to=${day}&groupBy=user`);
    expect(usage.body.totals).toMatchObject({ jobs: 1, pages: figures.pages });
  });

  it('another printer’s device token, even of the same tenant, finds no such job (404); the job stays released', async () => {
    const { uma, printers, jobId } = await world('MFP-A', 'MFP-B');
    const refused = await api(host, printers[1]!.access, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures);
    expect(refused.status).toBe(404);
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'released', releasedTo: printers[0]!.deviceId });
  });

  it('a printer of another tenant finds no such job (404), though it names the user and the job', async () => {
    const { uma, jobId } = await world('MFP-5');
    const other = await freshTenant(host, 'contoso', individual(admin));
    const stranger = await enrolledPrinter(host, other.admin.token, 'MFP-X');
    const refused = await api(host, stranger.access, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures);
    expect(refused.status).toBe(404);
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'released' });
  });

  it('a disconnected printer may no longer report with its device token (403), though the token still verifies', async () => {
    const { tenant, uma, printers, jobId } = await world('MFP-6');
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printers[0]!.deviceId}`)).status).toBe(204);
    const refused = await api(host, printers[0]!.access, 'POST', `/api/jobs/${jobId}/printed?user=${uma.id}`, figures);
    expect(refused.status).toBe(403);
    expect(await jobOf(uma.token, jobId)).toMatchObject({ state: 'released' });
  });
});

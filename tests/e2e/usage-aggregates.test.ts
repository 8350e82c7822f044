import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDoc, PrintedCounts } from '../../shared/jobs/jobs.js';
import type { Services } from '../../shared/services.js';
import { recordUsage, type UsageDayDoc } from '../../shared/usage/usage.js';
import { approvedSession, enrolledPrinter, freshTenant, individual, type FreshTenant } from '../helpers/fixtures.js';
import { hexId, printedJob } from '../helpers/printed-jobs.js';
import { api, lastCosmosRequests, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The usage aggregates (docs/data.md#usage-aggregates) and what reads them
 * (docs/flows.md#usage-reports): counts that stay exact under concurrent reports, keys escaped
 * for patch paths, the report's input rules and CSV guard, own totals, and a user's figures in
 * the export and gone after erasure while the printers' and days' totals stay.
 */
const admin: Person = { email: 'una@usage.test', username: 'una', fullName: 'Una Admin', password: 'una-password-123' };
const member: Person = { email: 'max@usage.test', username: 'max', fullName: 'Max Member', password: 'max-password-123' };

let host: TestHost;
let services: Services;
beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
});
afterAll(() => host?.close());

const figures = (pages: number, colorPages = 0): PrintedCounts => ({
  pages,
  sheets: Math.ceil(pages / 2),
  colorPages,
  duplex: true,
  paperSize: 'A4',
});
const dayItem = async (tenantId: string, day: string) =>
  (await services.store.container('usage').item(`day:${day}`, tenantId).read<UsageDayDoc>()).resource;
const sumOf = (counts: Readonly<Record<string, number>>, prefix: string, figure: string) =>
  Object.entries(counts)
    .filter(([key]) => key.startsWith(prefix) && key.endsWith(`:${figure}`))
    .reduce((sum, [, value]) => sum + value, 0);

async function world(prefix: string, people: Person[] = []): Promise<{ tenant: FreshTenant; printer: string }> {
  const tenant = await freshTenant(host, prefix, individual(admin), people.map(individual));
  const printer = (await enrolledPrinter(host, tenant.admin.token, 'Hall MFP')).deviceId;
  return { tenant, printer };
}

async function get(token: string, path: string) {
  const response = await fetch(`${host.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('recordUsage (shared/usage/usage.ts)', () => {
  it('50 reports at once on one day: exact totals, one item, created by one and patched by the rest', async () => {
    const { tenant, printer } = await world('usage-race');
    const users = Array.from({ length: 5 }, (_, i) => ({ tenantId: tenant.id, userId: hexId(), username: `racer-${i}` }));
    const at = new Date('2024-03-05T10:00:00Z');
    const jobs = Array.from({ length: 50 }, (_, n) => printedJob(users[n % 5]!, printer, at, figures(n + 1, n % 2 ? n + 1 : 0), n));
    await Promise.all(jobs.map((job) => recordUsage(services.store, job, at)));

    const item = (await dayItem(tenant.id, '2024-03-05'))!;
    const expected = {
      jobs: 50,
      pages: jobs.reduce((s, j) => s + j.printed!.pages, 0),
      sheets: jobs.reduce((s, j) => s + j.printed!.sheets, 0),
    };
    for (const [figure, value] of Object.entries(expected)) {
      expect(sumOf(item.counts, 'printer:', figure), figure).toBe(value);
      expect(sumOf(item.counts, 'user:', figure), figure).toBe(value);
    }
    expect(sumOf(item.counts, 'printer:', 'colorPages')).toBe(jobs.reduce((s, j) => s + j.printed!.colorPages, 0));
    expect(item.counts[`user:${users[0]!.userId}:jobs`]).toBe(10);
    expect(item.names).toEqual({
      [`printer:${printer}`]: 'Hall MFP',
      ...Object.fromEntries(users.map((u) => [`user:${u.userId}`, u.username])),
    });
    const { resources } = await services.store
      .container('usage')
      .items.query({ query: 'SELECT c.id FROM c WHERE c.tenantId = @t', parameters: [{ name: '@t', value: tenant.id }] })
      .fetchAll();
    expect(resources).toEqual([{ id: 'day:2024-03-05' }]);
  });

  it('ids holding "/" and "~" are escaped in patch paths (RFC 6901); a job printed without figures counts with 0 pages', async () => {
    const { tenant } = await world('usage-escape');
    const owner = { tenantId: tenant.id, userId: 'odd/user~id', username: 'odd' };
    const at = new Date('2024-03-06T23:59:59Z');
    await recordUsage(services.store, printedJob(owner, 'printer~tilde', at, undefined), at);
    await recordUsage(services.store, printedJob(owner, 'printer~tilde', at, figures(4, 4)), at);
    const item = (await dayItem(tenant.id, '2024-03-06'))!;
    expect(item.counts).toMatchObject({
      'user:odd/user~id:jobs': 2,
      'user:odd/user~id:pages': 4,
      'printer:printer~tilde:colorPages': 4,
    });
    expect(item.names).toEqual({ 'user:odd/user~id': 'odd' }); // no such printer: no name to keep
    expect(item.ttl).toBe(400 * 86_400);
  });
});

describe('through the printer', () => {
  it("a printer's report lands in the aggregates: own totals and the tenant's report show it at once", async () => {
    const tenant = await freshTenant(host, 'usage-flow', individual(admin), [individual(member)]);
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Flow MFP');
    const max = tenant.users[0]!;
    const options = { copies: 2, duplex: true, color: true, paperSize: 'A4' };
    const created = await api(host, max.token, 'POST', '/api/jobs', { fileName: 'Plan.pdf', size: 4321, options });
    await api(host, max.token, 'POST', `/api/jobs/${created.body.id}/ready`);
    const session = await approvedSession(host, printer, max.token);
    expect(session.release).toMatchObject({ released: 1 });
    const printed = { pages: 8, sheets: 4, colorPages: 6, duplex: true, paperSize: 'A4' };
    expect((await api(host, session.token, 'POST', `/api/jobs/${created.body.id}/printed`, printed)).status).toBe(200);

    const own = await api(host, max.token, 'GET', '/api/me/usage');
    expect(own.body.totals).toEqual({ jobs: 1, pages: 8, sheets: 4, colorPages: 6, colorShare: 0.75 });
    const day = own.body.to as string;
    const byPrinter = await api(host, tenant.admin.token, 'GET', `/api/reports/usage?from=${day}&to=${day}&groupBy=printer`);
    expect(byPrinter.body.rows).toEqual([
      { key: printer.deviceId, name: 'Flow MFP', jobs: 1, pages: 8, sheets: 4, colorPages: 6, colorShare: 0.75 },
    ]);
  });
});

describe('GET /api/reports/usage and /api/me/usage (docs/flows.md#usage-reports)', () => {
  it('refuses bad input with problems naming the field, and non-admins', async () => {
    const { tenant } = await world('usage-input', [member]);
    const token = tenant.admin.token;
    const cases: [string, string][] = [
      ['from=2024-02-30&to=2024-03-01&groupBy=day', '/query/from'],
      ['from=2024-3-1&to=2024-03-01&groupBy=day', '/query/from'],
      ['from=2024-03-02&to=2024-03-01&groupBy=day', '/query/from'],
      ['from=2024-01-01&to=2025-01-01&groupBy=day', '/query/to'],
      ['from=2024-01-01&to=2024-01-02&groupBy=month', '/query/groupBy'],
      ['from=2024-01-01&to=2024-01-02', '/query/groupBy'],
      ['from=2024-01-01&to=2024-01-02&groupBy=day&format=xlsx', '/query/format'],
    ];
    for (const [query, pointer] of cases) {
      const answer = await get(token, `/api/reports/usage?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.headers.get('content-type'), query).toContain('application/problem+json');
      expect(
        JSON.parse(answer.text).errors.map((e: { pointer: string }) => e.pointer),
        query,
      ).toContain(pointer);
    }
    // 366 days is the most: a leap year, whole.
    expect((await get(token, '/api/reports/usage?from=2024-01-01&to=2024-12-31&groupBy=day')).status).toBe(200);
    expect((await get(tenant.users[0]!.token, '/api/reports/usage?from=2024-01-01&to=2024-01-02&groupBy=day')).status).toBe(403);
    expect((await get(tenant.users[0]!.token, '/api/me/usage?from=2024-01-02&to=2024-01-01')).status).toBe(400);
  });

  it('a whole year (366 days, the most) is 4 pages of day items: 6 requests with the caller and the query plan', async () => {
    const { tenant, printer } = await world('usage-year');
    const owner = { tenantId: tenant.id, userId: hexId(), username: 'yearly' };
    const first = Date.parse('2024-01-01T12:00:00Z');
    const days = Array.from({ length: 366 }, (_, i) => new Date(first + i * 86_400_000));
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < days.length) {
          const at = days[next++]!;
          await recordUsage(services.store, printedJob(owner, printer, at, figures(2)), at);
        }
      }),
    );
    const year = await api(host, tenant.admin.token, 'GET', '/api/reports/usage?from=2024-01-01&to=2024-12-31&groupBy=day');
    expect(year.body.rows).toHaveLength(366);
    expect(year.body.totals).toMatchObject({ jobs: 366, pages: 732 });
    expect(lastCosmosRequests(host, '/api/reports/usage')).toBeLessThanOrEqual(6);
  });

  it('CSV cells a spreadsheet would run as formulas are defused; quoted where needed', async () => {
    const { tenant, printer } = await world('usage-csv');
    const at = new Date('2024-04-01T08:00:00Z');
    const names = ['=cmd|" /C calc"!A0', '+1', '-2', '@SUM(A1)', 'plain, with comma'];
    for (const [i, username] of names.entries()) {
      await recordUsage(services.store, printedJob({ tenantId: tenant.id, userId: `u${i}`, username }, printer, at, figures(10 - i)), at);
    }
    const csv = await get(tenant.admin.token, '/api/reports/usage?from=2024-04-01&to=2024-04-01&groupBy=user&format=csv');
    expect(csv.text.split('\r\n')).toEqual([
      'key,name,jobs,pages,sheets,colorPages,colorShare',
      `u0,"'=cmd|"" /C calc""!A0",1,10,5,0,0`,
      `u1,'+1,1,9,5,0,0`,
      `u2,'-2,1,8,4,0,0`,
      `u3,'@SUM(A1),1,7,4,0,0`,
      `u4,"plain, with comma",1,6,3,0,0`,
      '',
    ]);
  });

  it('own totals: only the caller’s figures, the last 30 days by default, within 3 requests', async () => {
    const { tenant, printer } = await world('usage-own', [member]);
    const me = tenant.users[0]!;
    const today = new Date();
    const lastMonth = new Date(today.getTime() - 40 * 86_400_000);
    const owner = { tenantId: tenant.id, userId: me.id, username: me.person.username };
    const someoneElse = { tenantId: tenant.id, userId: tenant.admin.id, username: tenant.admin.person.username };
    await recordUsage(services.store, printedJob(owner, printer, today, figures(6, 2)), today);
    await recordUsage(services.store, printedJob(owner, printer, today, undefined), today);
    await recordUsage(services.store, printedJob(owner, printer, lastMonth, figures(50)), lastMonth);
    await recordUsage(services.store, printedJob(someoneElse, printer, today, figures(99)), today);

    const answer = await api(host, me.token, 'GET', '/api/me/usage');
    expect(answer.status).toBe(200);
    const day = today.toISOString().slice(0, 10);
    expect(answer.body).toEqual({
      from: new Date(Date.parse(`${day}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10),
      to: day,
      totals: { jobs: 2, pages: 6, sheets: 3, colorPages: 2, colorShare: 0.333 },
      days: [{ day, jobs: 2, pages: 6, sheets: 3, colorPages: 2 }],
    });
    expect(lastCosmosRequests(host, '/api/me/usage')).toBeLessThanOrEqual(3);
    const older = await api(host, me.token, 'GET', `/api/me/usage?from=${lastMonth.toISOString().slice(0, 10)}&to=${day}`);
    expect(older.body.totals).toMatchObject({ jobs: 3, pages: 56 });
  });
});

describe('export and erasure (docs/data.md#data-subject-rights)', () => {
  it("the export holds the user's printed figures; after erasure none is left anywhere, the day's and printers' totals stay", async () => {
    const { tenant, printer } = await world('usage-rights', [member, { ...member, username: 'mia', email: 'mia@usage.test' }]);
    const [max, mia] = tenant.users as [(typeof tenant.users)[0], (typeof tenant.users)[0]];
    const days = [new Date('2024-05-01T09:00:00Z'), new Date('2024-05-02T09:00:00Z'), new Date('2024-05-03T09:00:00Z')];
    const jobs: JobDoc[] = [];
    for (const [i, at] of days.entries()) {
      jobs.push(printedJob({ tenantId: tenant.id, userId: max.id, username: max.person.username }, printer, at, figures(10 + i, 2), i));
      if (i < 2) jobs.push(printedJob({ tenantId: tenant.id, userId: mia.id, username: mia.person.username }, printer, at, figures(5), i));
    }
    for (const job of jobs) {
      await services.store.container('jobs').items.create(job);
      await recordUsage(services.store, job, new Date(job.printedAt!));
    }
    const range = 'from=2024-05-01&to=2024-05-03';
    const reportOf = async (groupBy: string) =>
      (await api(host, tenant.admin.token, 'GET', `/api/reports/usage?${range}&groupBy=${groupBy}`)).body;

    const exported = (await api(host, tenant.admin.token, 'GET', `/api/users/${max.id}/export`)).body;
    expect(exported.jobs.map((job: JobDoc) => job.printed).sort((a: PrintedCounts, b: PrintedCounts) => a.pages - b.pages)).toEqual([
      figures(10, 2),
      figures(11, 2),
      figures(12, 2),
    ]);
    expect(exported.usage).toEqual([
      { day: '2024-05-01', jobs: 1, pages: 10, sheets: 5, colorPages: 2 },
      { day: '2024-05-02', jobs: 1, pages: 11, sheets: 6, colorPages: 2 },
      { day: '2024-05-03', jobs: 1, pages: 12, sheets: 6, colorPages: 2 },
    ]);
    expect(JSON.stringify(exported.usage)).not.toContain(mia.id);

    const before = { day: await reportOf('day'), printer: await reportOf('printer'), user: await reportOf('user') };
    expect(before.user.rows.map((r: { key: string }) => r.key)).toEqual([max.id, mia.id]);

    const erased = await api(host, tenant.admin.token, 'DELETE', `/api/users/${max.id}`);
    expect(erased.status).toBe(204);

    // Nothing in the usage container names him any more: not his id, not his username.
    const { resources } = await services.store.container('usage').items.readAll<UsageDayDoc>().fetchAll();
    const mentions = resources.filter((item) => {
      const text = JSON.stringify(item);
      return text.includes(max.id) || text.includes(max.person.username);
    });
    expect(mentions).toEqual([]);
    const after = { day: await reportOf('day'), printer: await reportOf('printer'), user: await reportOf('user') };
    expect(after.day).toEqual(before.day);
    expect(after.printer).toEqual(before.printer);
    expect(after.user.totals).toEqual(before.user.totals);
    expect(after.user.rows).toEqual(before.user.rows.filter((r: { key: string }) => r.key === mia.id));

    const audit = (await api(host, tenant.admin.token, 'GET', '/api/audit?action=user.erased')).body.items[0];
    expect(audit.details).toMatchObject({ jobs: 3, usageDays: 3 });
    // Run again: nothing left to take out.
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${max.id}`)).status).toBe(204);
  });
});

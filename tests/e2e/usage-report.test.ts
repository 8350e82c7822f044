import { BulkOperationType, type JSONObject, type OperationInput } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDoc } from '../../shared/jobs/jobs.js';
import type { Services } from '../../shared/services.js';
import { recordUsage } from '../../shared/usage/usage.js';
import { enrolledPrinter, freshTenant, type FreshTenant } from '../helpers/fixtures.js';
import { hexId, printedJob } from '../helpers/printed-jobs.js';
import { lastCosmosRequests, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Issue 21's done-when for the usage report (docs/flows.md#usage-reports): 30 simulated days and
 * 10,000 printed jobs over several users and printers. The jobs are written straight into the
 * store (bulk) as printers would have left them, each is added to the aggregates by the real
 * recordUsage (a bounded number at once, as instances would), and then the report, through the
 * API, answers within its stated request budget (the caller's read and one query page for a
 * month) and equals a count made over the raw jobs, for each groupBy, as JSON and as CSV.
 */
const DAYS = 30;
const JOBS = 10_000;
const USERS = 8;
const AT_ONCE = 32;
/**
 * The caller's point read (admin routes read the user for the role), and the query: the plan the
 * SDK asks the gateway for before every query, and one page (up to 100 days).
 */
const REPORT_BUDGET = 3;

const admin: Person = { email: 'ada@usage.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };

let host: TestHost;
let services: Services;
let tenant: FreshTenant;
let printers: { id: string; name: string }[];
let from: string;
let to: string;

type Figures = { jobs: number; pages: number; sheets: number; colorPages: number };
type Row = Figures & { key: string; name: string; colorShare: number };

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const share = (f: Figures) => (f.pages > 0 ? Math.round((f.colorPages / f.pages) * 1000) / 1000 : 0);

/** Every 40th job is reported without figures (an older printer agent): a job with 0 pages. */
function simulatedJob(n: number, userIndex: number, printer: string, printedAt: Date): JobDoc {
  const copies = 1 + (n % 3);
  const pages = 1 + ((n * 7) % 23);
  const color = n % 5 === 0;
  const duplex = n % 2 === 0;
  const figures = {
    pages: pages * copies,
    sheets: duplex ? Math.ceil(pages / 2) * copies : pages * copies,
    colorPages: color ? pages * copies : 0,
    duplex,
    paperSize: 'A4' as const,
  };
  const owner = { tenantId: tenant.id, userId: userIds[userIndex]!, username: `user-${userIndex}` };
  return printedJob(owner, printer, printedAt, n % 40 === 0 ? undefined : figures, n);
}

let userIds: string[] = [];

async function report(query: string) {
  const response = await fetch(`${host.url}/api/reports/usage?${query}`, { headers: { authorization: `Bearer ${tenant.admin.token}` } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The expected rows, counted over the jobs as stored (read back from the `jobs` container). */
async function countOverRawJobs(): Promise<
  Record<'user' | 'printer' | 'day', Map<string, Figures & { name: string }>> & { totals: Figures }
> {
  // One page, one scan: the local server reads every item for each page it serves.
  const { resources: stored } = await services.store
    .container('jobs')
    .items.query<JobDoc>(
      {
        query:
          "SELECT c.userId, c.username, c.releasedTo, c.printedAt, c.printed FROM c WHERE c.tenantId = @tenantId AND c.state = 'printed'",
        parameters: [{ name: '@tenantId', value: tenant.id }],
      },
      { maxItemCount: JOBS + 1 },
    )
    .fetchAll();
  expect(stored).toHaveLength(JOBS);
  const groups = { user: new Map(), printer: new Map(), day: new Map() } as Record<
    'user' | 'printer' | 'day',
    Map<string, Figures & { name: string }>
  >;
  const totals: Figures = { jobs: 0, pages: 0, sheets: 0, colorPages: 0 };
  const printerName = new Map(printers.map((p) => [p.id, p.name]));
  for (const job of stored) {
    const figures = { jobs: 1, pages: job.printed?.pages ?? 0, sheets: job.printed?.sheets ?? 0, colorPages: job.printed?.colorPages ?? 0 };
    const keys = {
      user: [job.userId, job.username],
      printer: [job.releasedTo!, printerName.get(job.releasedTo!) ?? job.releasedTo!],
      day: [job.printedAt!.slice(0, 10), job.printedAt!.slice(0, 10)],
    } as const;
    for (const [group, [key, name]] of Object.entries(keys) as ['user' | 'printer' | 'day', readonly [string, string]][]) {
      const sum = groups[group].get(key) ?? { jobs: 0, pages: 0, sheets: 0, colorPages: 0, name };
      for (const f of ['jobs', 'pages', 'sheets', 'colorPages'] as const) sum[f] += figures[f];
      groups[group].set(key, sum);
    }
    for (const f of ['jobs', 'pages', 'sheets', 'colorPages'] as const) totals[f] += figures[f];
  }
  return { ...groups, totals };
}

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
  tenant = await freshTenant(host, 'usage', admin);
  const names = ['Floor 1 MFP', '=HYPERLINK("x") colour', 'Basement, mono'];
  printers = [];
  for (const name of names) printers.push({ id: (await enrolledPrinter(host, tenant.admin.token, name)).deviceId, name });
  // A printer removed since: its jobs still count, under its id.
  const gone = hexId();
  printers.push({ id: gone, name: gone });
  userIds = Array.from({ length: USERS }, () => hexId());
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  from = dayOf(today - DAYS * 86_400_000);
  to = dayOf(today - 86_400_000);
}, 30_000);
afterAll(() => host?.close());

describe('usage report over 30 days and 10,000 jobs (docs/flows.md#usage-reports)', () => {
  it('answers within its request budget and equals a count over the raw jobs, for each groupBy, as JSON and CSV', async () => {
    const started = performance.now();
    const firstDay = Date.parse(`${from}T00:00:00Z`);
    // Users and printers print unevenly: the orders of the rows are then meaningful.
    const jobs = Array.from({ length: JOBS }, (_, n) => {
      const userIndex = (n * n + n) % USERS;
      const printer = printers[(n % 7) % printers.length]!.id;
      const at = new Date(firstDay + (n % DAYS) * 86_400_000 + ((n * 7919) % 86_400_000));
      return simulatedJob(n, userIndex, printer, at);
    });
    const operations: OperationInput[] = jobs.map((job) => ({
      operationType: BulkOperationType.Create,
      resourceBody: job as unknown as JSONObject,
      partitionKey: job.pk,
    }));
    const results = await services.store.container('jobs').items.executeBulkOperations(operations);
    expect(results.filter((r) => r.response?.statusCode !== 201)).toEqual([]);
    const seeded = performance.now();

    let next = 0;
    await Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          await recordUsage(services.store, job, new Date(job.printedAt!));
        }
      }),
    );
    const aggregated = performance.now();

    const expected = await countOverRawJobs();
    const counted = performance.now();
    const range = `from=${from}&to=${to}`;
    await report(`${range}&groupBy=day`); // the SDK's first look at the container (its metadata) is not the report's
    for (const groupBy of ['user', 'printer', 'day'] as const) {
      const json = await report(`${range}&groupBy=${groupBy}`);
      expect(json.status).toBe(200);
      expect(lastCosmosRequests(host, '/api/reports/usage')).toBeLessThanOrEqual(REPORT_BUDGET);
      const body = JSON.parse(json.text) as {
        from: string;
        to: string;
        groupBy: string;
        totals: Figures & { colorShare: number };
        rows: Row[];
      };
      expect(body).toMatchObject({ from, to, groupBy });
      expect(body.totals).toEqual({ ...expected.totals, colorShare: share(expected.totals) });
      const wanted = [...expected[groupBy]].map(([key, { name, ...figures }]) => ({ key, name, ...figures, colorShare: share(figures) }));
      wanted.sort(groupBy === 'day' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => b.pages - a.pages || a.key.localeCompare(b.key));
      expect(body.rows).toEqual(wanted);
      if (groupBy === 'day') expect(body.rows).toHaveLength(DAYS);

      const csv = await report(`${range}&groupBy=${groupBy}&format=csv`);
      expect(csv.status).toBe(200);
      expect(lastCosmosRequests(host, '/api/reports/usage')).toBeLessThanOrEqual(REPORT_BUDGET);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="usage-${groupBy}-${from}-${to}.csv"`);
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('key,name,jobs,pages,sheets,colorPages,colorShare');
      expect(lines.slice(1)).toEqual(wanted.map((row) => csvLine(row)));
    }
    const done = performance.now();
    console.info(
      `usage report: seeded ${JOBS} jobs in ${ms(seeded - started)}, aggregated in ${ms(aggregated - seeded)} (${AT_ONCE} at once), ` +
        `counted the raw jobs in ${ms(counted - aggregated)}, 7 reports in ${ms(done - counted)}`,
    );
  }, 60_000);
});

const ms = (n: number) => `${Math.round(n)} ms`;

/** The CSV line the test expects: quoting and the formula guard written out independently of the app's. */
function csvLine(row: Row): string {
  return [row.key, row.name, row.jobs, row.pages, row.sheets, row.colorPages, row.colorShare]
    .map((cell) => {
      let text = String(cell);
      if (typeof cell === 'string' && ['=', '+', '-', '@'].includes(text[0] ?? '')) text = `'${text}`;
      return text.includes(',') || text.includes('"') ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}

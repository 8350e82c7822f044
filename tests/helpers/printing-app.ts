import { expect } from 'vitest';
import { approvedSession, enrolledPrinter, individual } from './fixtures.js';
import { api, mobileSignIn, type Person } from './roger.js';
import type { TestHost } from './test-host.js';
import { startAdminApp, type AdminApp } from './web-app.js';

/**
 * The set-up of the browser tests of issue 21's screens (tests/browser/web-usage.test.ts,
 * web-printing-policy.test.ts): an admin app with one more person and two printers, and a colour
 * job of that person printed the way a printer does it: released in a session at `MFP-2F`, then
 * reported with its figures (`POST /api/jobs/{id}/printed`, docs/flows.md#what-was-printed).
 */
export interface PrintingApp extends AdminApp {
  person: Person;
  personId: string;
  personToken: string;
  adminId: string;
  tenantId: string;
  /** `MFP-2F`, and `=Lobby`: a name a spreadsheet would run as a formula (the CSV must defuse it). */
  printers: Record<'floor' | 'lobby', { access: string; deviceId: string }>;
  /** The printed job and its figures. */
  printed: { id: string; fileName: string; pages: number; sheets: number; colorPages: number };
}

export async function startPrintingApp(admin: Person, someone: Person): Promise<PrintingApp> {
  const app = await startAdminApp(admin);
  const { host, token } = app;
  const person = individual(someone);
  const created = await api(host, token, 'POST', '/api/users', person);
  expect(created.status).toBe(201);
  const [floor, lobby, signedIn, me, tenant] = await Promise.all([
    enrolledPrinter(host, token, 'MFP-2F'),
    enrolledPrinter(host, token, '=Lobby'),
    mobileSignIn(host, app.tenant, person),
    api(host, token, 'GET', '/api/me'),
    api(host, token, 'GET', '/api/tenant'),
  ]);
  const personToken = signedIn.access_token;
  const printed = { fileName: 'Quarterly report.pdf', pages: 12, sheets: 6, colorPages: 4 };
  const id = await printThroughSession(host, floor, personToken, printed);
  return {
    ...app,
    person,
    personId: created.body.id,
    personToken,
    adminId: me.body.user.id,
    tenantId: tenant.body.id,
    printers: { floor, lobby },
    printed: { id, ...printed },
  };
}

/** A colour, two-sided A4 job of one copy: registered, ready, released at `printer` in a session, reported printed with `figures`. */
export async function printThroughSession(
  host: TestHost,
  printer: { access: string },
  userToken: string,
  figures: { fileName: string; pages: number; sheets: number; colorPages: number },
): Promise<string> {
  const job = await api(host, userToken, 'POST', '/api/jobs', {
    fileName: figures.fileName,
    size: 4096,
    options: { color: true, duplex: true, copies: 1, paperSize: 'A4' },
  });
  await api(host, userToken, 'POST', `/api/jobs/${job.body.id}/ready`);
  const session = await approvedSession(host, printer, userToken);
  const { pages, sheets, colorPages } = figures;
  const printed = await api(host, session.token, 'POST', `/api/jobs/${job.body.id}/printed`, {
    pages,
    sheets,
    colorPages,
    duplex: true,
    paperSize: 'A4',
  });
  expect(printed.status).toBe(200);
  return job.body.id as string;
}

import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDoc } from '../../shared/jobs/jobs.js';
import { recordUsage } from '../../shared/usage/usage.js';
import { approvedSession, enrolledPrinter, individual } from '../helpers/fixtures.js';
import { api, mobileSignIn, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { DESKTOP, SHOTS, checkScreen, goInApp, openApp, signInWithKeyboard, startAdminApp, switchLanguage } from '../helpers/web-app.js';

/**
 * What issue 21 added to the web app (docs/web-app.md#admin-usage), in Chromium against the test
 * host, no mocks: the admin sets what happens after printing, retention in hours and print rights
 * on Policy by keyboard; a person's My jobs shows what the printer reported printing, a job held by
 * those rights with the reason, and a clean-up still pending, and Settings their own totals; the
 * admin's Usage screen, by keyboard only, shows the figures by person, printer and day as a chart
 * and a table that match what was seeded, saves the CSV (its content checked, a printer name
 * starting with "=" defused), and says so when a period has nothing or is refused. axe and
 * screenshots in English and French at phone and desktop size.
 *
 * One job is printed the way a printer does it (a session, then `POST /printed` with its figures);
 * the volume over past days is added through the store with recordUsage, as a printed job adds it.
 */
const BAD_REQUEST = 'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)';

const ada: Person = { email: 'ada@contoso.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-123' };
const ben: Person = { email: 'ben@contoso.test', username: 'ben', fullName: 'Ben Bell', password: 'ben-password-123' };

/** The report period the tests ask for: the 30 UTC days the screen opens with. */
const DAY_MS = 86_400_000;
const dayAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

describe('usage, print figures and the new policy in a browser', { timeout: 75_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let token: string;
  let person: Person;
  let personToken: string;
  let personId: string;
  let adminId: string;
  const printers: Record<'floor' | 'lobby', { access: string; deviceId: string }> = {} as never;
  /** Pages, sheets, colour pages and jobs seeded per printer and per person over the period. */
  const expected = {
    printer: new Map<string, { jobs: number; pages: number; sheets: number; colorPages: number }>(),
    user: new Map<string, { jobs: number; pages: number; sheets: number; colorPages: number }>(),
  };
  const count = (map: Map<string, { jobs: number; pages: number; sheets: number; colorPages: number }>, key: string, f: number[]) => {
    const sum = map.get(key) ?? { jobs: 0, pages: 0, sheets: 0, colorPages: 0 };
    map.set(key, { jobs: sum.jobs + 1, pages: sum.pages + f[0]!, sheets: sum.sheets + f[1]!, colorPages: sum.colorPages + f[2]! });
  };
  let printedJobId: string;

  beforeAll(async () => {
    ({ host, browser, tenant, admin, token } = await startAdminApp(ada));
    person = individual(ben);
    const created = await api(host, token, 'POST', '/api/users', person);
    expect(created.status).toBe(201);
    personId = created.body.id;
    adminId = (await api(host, token, 'GET', '/api/me')).body.user.id;
    const [floor, lobby, signedIn] = await Promise.all([
      enrolledPrinter(host, token, 'MFP-2F'),
      // A name a spreadsheet would run as a formula: the CSV must defuse it.
      enrolledPrinter(host, token, '=Lobby'),
      mobileSignIn(host, tenant, person),
    ]);
    Object.assign(printers, { floor, lobby });
    personToken = signedIn.access_token;

    // One colour job printed the way a printer does: released in a session, reported with its figures.
    const job = await api(host, personToken, 'POST', '/api/jobs', {
      fileName: 'Quarterly report.pdf',
      size: 4096,
      options: { color: true, duplex: true, copies: 1, paperSize: 'A4' },
    });
    printedJobId = job.body.id;
    await api(host, personToken, 'POST', `/api/jobs/${printedJobId}/ready`);
    const session = await approvedSession(host, floor, personToken);
    const printed = await api(host, session.token, 'POST', `/api/jobs/${printedJobId}/printed`, {
      pages: 12,
      sheets: 6,
      colorPages: 4,
      duplex: true,
      paperSize: 'A4',
    });
    expect(printed.status).toBe(200);
    count(expected.printer, floor.deviceId, [12, 6, 4]);
    count(expected.user, personId, [12, 6, 4]);

    // The volume: 24 jobs over the last 20 days, by both people at both printers.
    const { store } = await host.services();
    const tenantId = (await api(host, token, 'GET', '/api/tenant')).body.id as string;
    for (let i = 0; i < 24; i++) {
      const user = i % 3 === 0 ? { id: personId, name: person.username } : { id: adminId, name: admin.username };
      const printer = i % 2 === 0 ? floor : lobby;
      const f = [2 + i, 1 + i, i % 4 === 0 ? i : 0];
      const seeded = {
        tenantId,
        userId: user.id,
        username: user.name,
        releasedTo: printer.deviceId,
        printed: { pages: f[0]!, sheets: f[1]!, colorPages: f[2]!, duplex: true, paperSize: 'A4' },
      } as unknown as JobDoc;
      await recordUsage(store, seeded, new Date(Date.now() - (i % 20) * DAY_MS));
      count(expected.printer, printer.deviceId, f);
      count(expected.user, user.id, f);
    }
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true }).waitFor();
  const found: string[] = [];
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  it('policy: after printing, retention in hours and print rights by keyboard, checked through the API', async () => {
    ({ context, page, problems } = await openApp(browser, 'en-GB', DESKTOP));
    page.setDefaultTimeout(10_000);
    await page.goto(`${host.url}/app/admin/policy`);
    await signInWithKeyboard(page, tenant, admin);
    await heading(page, 'Policy');

    await page.getByRole('radio', { name: 'Move it to Print/Printed' }).focus();
    await page.keyboard.press('Space');
    await page.getByLabel('Keep print jobs (hours)').focus();
    await page.keyboard.type('12');
    await page.getByRole('group', { name: 'People' }).getByRole('checkbox', { name: 'Colour allowed' }).focus();
    await page.keyboard.press('Space');
    await page.getByLabel('Most copies of one job (People)').focus();
    await page.keyboard.type('0');
    await page.getByRole('radio', { name: /^Held in the queue/ }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Save' }).focus();
    await page.keyboard.press('Enter');
    // 0 copies is refused at its field, in the screen's words; nothing is saved.
    await page.getByText('Not accepted: a whole number from 1 to 999, or nothing.').waitFor();
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy.afterPrint).toBe('keep');
    found.push(
      ...(await checkScreen(page, 'admin-policy-printing-error', (language) =>
        page
          .getByText(
            language === 'fr'
              ? 'Valeur refusée\u00a0: un nombre entier de 1 à 999, ou rien.'
              : 'Not accepted: a whole number from 1 to 999, or nothing.',
          )
          .waitFor(),
      )),
    );

    await page.getByLabel('Most copies of one job (People)').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('5');
    await page.keyboard.press('Enter');
    await page.getByText('The policy is saved.', { exact: false }).waitFor();
    const policy = (await api(host, token, 'GET', '/api/tenant')).body.policy;
    expect(policy).toMatchObject({
      afterPrint: 'move',
      jobRetentionHours: 12,
      printRights: { onViolation: 'hold', roles: { user: { color: false, maxCopies: 5 } } },
    });
    expect(policy.printRights.roles.admin).toBeUndefined();
    // Hours win: a new job is kept 12 hours.
    const job = await api(host, token, 'POST', '/api/jobs', { fileName: 'kept.pdf', size: 1 });
    expect(Date.parse(job.body.expiresAt) - Date.parse(job.body.createdAt)).toBe(12 * 3_600_000);
    await api(host, token, 'DELETE', `/api/jobs/${job.body.id}`);

    // Emptied, the hours go and the days apply again (the days are sent alone: the API's rule).
    await page.getByLabel('Keep print jobs (hours)').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await api(host, token, 'GET', '/api/tenant')).body.policy.jobRetentionHours).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('my jobs: what was printed, a job held by print rights, a clean-up pending; my own totals', async () => {
    // A colour job by someone who may no longer print in colour, at a session: held (policy: hold).
    const held = await api(host, personToken, 'POST', '/api/jobs', {
      fileName: 'Poster.pdf',
      size: 2048,
      options: { color: true, duplex: true, copies: 1, paperSize: 'A4' },
    });
    await api(host, personToken, 'POST', `/api/jobs/${held.body.id}/ready`);
    await approvedSession(host, printers.lobby, personToken);
    expect((await api(host, personToken, 'GET', `/api/jobs/${held.body.id}`)).body).toMatchObject({
      state: 'queued',
      heldReason: 'color-not-allowed',
    });
    // A clean-up that OneDrive could not do yet, as the after-print step leaves it (docs/flows.md#after-printing).
    const { store } = await host.services();
    const jobs = store.container('jobs');
    const pk = `${(await api(host, token, 'GET', '/api/tenant')).body.id}|${personId}`;
    const { resource } = await jobs.item(printedJobId, pk).read<JobDoc>();
    await jobs.items.upsert({
      ...resource!,
      cleanup: { action: 'move', due: new Date(Date.now() + 3_600_000).toISOString(), attempts: 1 },
    });

    const own = await openApp(browser, 'en-GB');
    own.page.setDefaultTimeout(10_000);
    await own.page.goto(`${host.url}/app/`);
    await signInWithKeyboard(own.page, tenant, person);
    const printedRow = own.page.getByRole('row', { name: /Quarterly report\.pdf/ });
    const heldRow = own.page.getByRole('row', { name: /Poster\.pdf/ });
    found.push(
      ...(await checkScreen(own.page, 'jobs-printed-held', async (language) => {
        if (language === 'en') {
          await printedRow.getByText('12 pages on 6 sheets, 4 in colour').waitFor();
          await printedRow.getByText('File clean-up pending').waitFor();
          await heldRow.getByText('Held: you may not print in colour.', { exact: false }).waitFor();
        } else {
          await printedRow.getByText('12\u00a0pages sur 6\u00a0feuilles, dont 4 en couleur').waitFor();
          await printedRow.getByText('Nettoyage du fichier en attente').waitFor();
          await heldRow.getByText('Retenu\u00a0: vous ne pouvez pas imprimer en couleur.', { exact: false }).waitFor();
        }
      })),
    );

    // Settings: my own totals over the last 30 days, as the API counts them.
    await goInApp(own.page, '/app/settings');
    const mine = expected.user.get(personId)!;
    const card = own.page.getByRole('region', { name: 'My printing' });
    await card.getByText('What you printed from', { exact: false }).waitFor();
    const figures = await card.locator('dd').allTextContents();
    expect(figures).toEqual([mine.jobs, mine.pages, mine.sheets, mine.colorPages].map((n) => n.toLocaleString('en-GB')));
    found.push(
      ...(await checkScreen(own.page, 'settings-my-printing', (language) =>
        own.page.getByRole('region', { name: language === 'fr' ? 'Mes impressions en chiffres' : 'My printing' }).waitFor(),
      )),
    );
    expect(own.problems).toEqual([]);
    await own.context.close();
  });

  /** The table's rows as text cells, header left out (at desktop size, where no column gives way). */
  const tableRows = async (page: Page) => {
    const rows = (await page.getByRole('table').getByRole('row').all()).slice(1);
    return Promise.all(rows.map(async (row) => (await row.getByRole('cell').allTextContents()).map((text) => text.trim())));
  };
  /** Tab (at most `most` times) until the focused element is an input of `type`: keyboard only. */
  const tabToInput = async (page: Page, type: string, most = 40) => {
    const focused = () => page.evaluate("document.activeElement?.type ?? ''");
    for (let i = 0; i < most && (await focused()) !== type; i++) await page.keyboard.press('Tab');
    expect(await focused()).toBe(type);
  };

  it('usage: by keyboard through period and grouping; table, chart and CSV match what was printed', async () => {
    await goInApp(page, '/app/admin/usage');
    await heading(page, 'Usage');
    await page.getByRole('table', { name: 'Usage by person' }).waitFor();
    // By person (the default), pages descending: the table holds every figure, with the colour share as a percentage.
    const byUser = [...expected.user.entries()].sort((a, b) => b[1].pages - a[1].pages);
    const rows = await tableRows(page);
    expect(rows.map((cells) => cells[0])).toEqual(byUser.map(([id]) => (id === personId ? person.username : admin.username)));
    for (const [index, [, sum]] of byUser.entries()) {
      expect(rows[index]!.slice(1, 5)).toEqual([sum.jobs, sum.pages, sum.sheets, sum.colorPages].map((n) => n.toLocaleString('en-GB')));
      expect(rows[index]![5]).toBe(`${Math.round((sum.colorPages / sum.pages) * 1000) / 10}%`.replace(/\.0%$/, '%'));
    }
    const all = [...expected.printer.values()].reduce((a, b) => ({
      jobs: a.jobs + b.jobs,
      pages: a.pages + b.pages,
      sheets: a.sheets + b.sheets,
      colorPages: a.colorPages + b.colorPages,
    }));
    const totals = await page.getByRole('region', { name: 'Totals' }).locator('dd').allTextContents();
    expect(totals.slice(0, 4)).toEqual([all.jobs, all.pages, all.sheets, all.colorPages].map((n) => n.toLocaleString('en-GB')));
    const chart = page.locator('[data-chart="drawn"] canvas');
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toContain(`${person.username}: ${expected.user.get(personId)!.pages} pages`);

    // Keyboard only: a From day typed into the date field, Printer chosen with the arrow keys, Show.
    await tabToInput(page, 'date'); // From, the first field
    const from = page.getByLabel('From', { exact: true });
    const start = dayAgo(25);
    // The field's segments follow Chromium's own locale, not the page's: month first, else day first.
    const [year, month, day] = start.split('-');
    await page.keyboard.type(`${month}${day}${year}`);
    if ((await from.inputValue()) !== start) {
      await from.focus();
      await page.keyboard.type(`${day}${month}${year}`);
    }
    expect(await from.inputValue()).toBe(start);
    // Tab leaves To through its day, month and year, then lands on the group's checked radio.
    await tabToInput(page, 'radio', 6);
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: 'Printer' }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Show');
    const asked = page.waitForRequest(
      (request) => request.url().includes('/api/reports/usage?') && request.url().includes('groupBy=printer'),
    );
    await page.keyboard.press('Enter');
    expect(new URL((await asked).url()).searchParams.get('from')).toBe(start);
    await page.getByRole('table', { name: 'Usage by printer' }).waitFor();
    const byPrinter = await tableRows(page);
    expect(byPrinter.map((cells) => cells[0]).sort()).toEqual(['=Lobby', 'MFP-2F']);

    // The CSV, by keyboard: saved under the server's name, its figures those of the API, "=" defused.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Download CSV');
    const downloading = page.waitForEvent('download');
    await page.keyboard.press('Enter');
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`usage-printer-${start}-${dayAgo(0)}.csv`);
    const csv = (await readFile((await download.path())!, 'utf8')).trim().split(/\r?\n/);
    expect(csv[0]).toBe('key,name,jobs,pages,sheets,colorPages,colorShare');
    const json = (await api(host, token, 'GET', `/api/reports/usage?from=${start}&to=${dayAgo(0)}&groupBy=printer`)).body;
    expect(csv.slice(1)).toEqual(
      json.rows.map((row: Record<string, string | number>) =>
        [row.key, row.name === '=Lobby' ? "'=Lobby" : row.name, row.jobs, row.pages, row.sheets, row.colorPages, row.colorShare].join(','),
      ),
    );
    expect(csv.some((line) => line.includes(",'=Lobby,"))).toBe(true);
    await page.getByText(`usage-printer-${start}-${dayAgo(0)}.csv is downloaded.`).waitFor();
    found.push(
      ...(await checkScreen(page, 'admin-usage-printer', (language) =>
        page
          .locator('[data-chart="drawn"]')
          .waitFor()
          .then(() => heading(page, language === 'fr' ? 'Utilisation' : 'Usage')),
      )),
    );

    // By day: a bar per day with jobs, days ascending, in the reader's language.
    await page.getByRole('radio', { name: 'Day' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Show' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('table', { name: 'Usage by day' }).waitFor();
    await page.locator('[data-chart="drawn"]').waitFor();
    const days = await tableRows(page);
    expect(days.length).toBeGreaterThan(10);
    found.push(
      ...(await checkScreen(page, 'admin-usage-day', (language) =>
        page.getByRole('table', { name: language === 'fr' ? 'Utilisation par jour' : 'Usage by day' }).waitFor(),
      )),
    );
    // French at desktop size too: the chart's axis and legend follow the language.
    await switchLanguage(page, 'fr');
    await page.getByRole('table', { name: 'Utilisation par jour' }).waitFor();
    await page.locator('[data-chart="drawn"]').waitFor();
    await page.setViewportSize(DESKTOP);
    await page.screenshot({ path: `${SHOTS}admin-usage-day-fr-1440x900.png`, fullPage: true });
    await switchLanguage(page, 'en');
    expect(problems).toEqual([]);
  });

  it('usage: a period with nothing printed, and one the API refuses', async () => {
    await page.getByLabel('From', { exact: true }).fill('2020-01-01');
    await page.getByLabel('To', { exact: true }).fill('2020-01-31');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('Nothing was printed from Jan 1, 2020 to Jan 31, 2020.').waitFor();
    expect(await page.locator('canvas').count()).toBe(0);

    // From after To: the API's 400 names /query/from; the field says what it takes.
    await page.getByLabel('From', { exact: true }).fill('2020-02-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('Not accepted: a day on or before the last day, at most 366 days before it.').waitFor();
    expect(await page.getByLabel('From', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    found.push(
      ...(await checkScreen(page, 'admin-usage-refused', (language) =>
        page
          .getByText(language === 'fr' ? 'Valeur refusée\u00a0: un jour antérieur' : 'Not accepted: a day on or before', { exact: false })
          .waitFor(),
      )),
    );
    expect(found).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

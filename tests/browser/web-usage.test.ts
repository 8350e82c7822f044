import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordUsage } from '../../shared/usage/usage.js';
import { printedJob } from '../helpers/printed-jobs.js';
import { startPrintingApp } from '../helpers/printing-app.js';
import { api, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { DESKTOP, SHOTS, checkScreen, openApp, signInWithKeyboard, switchLanguage } from '../helpers/web-app.js';

/**
 * The admin's Usage screen (docs/web-app.md#admin-usage-and-printing) in Chromium against the test
 * host, no mocks: by keyboard only, a period typed into the date field and the grouping chosen with
 * the arrow keys; the totals, the chart (drawn, and named by a summary for screen readers) and the
 * table by person, printer and day match what was printed; the CSV is saved under the server's
 * name with the API's figures, a printer name starting with "=" defused; a period with nothing
 * printed and one the API refuses say so. axe and screenshots in English and French, phone and
 * desktop.
 *
 * One job is printed the way a printer does it (a session, then `POST /printed` with its figures);
 * the volume over past days goes through recordUsage, as each printed job adds its figures.
 */
const BAD_REQUEST = 'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)';

const ada: Person = { email: 'ada@contoso.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-123' };
const ben: Person = { email: 'ben@contoso.test', username: 'ben', fullName: 'Ben Bell', password: 'ben-password-123' };

const DAY_MS = 86_400_000;
/** A UTC day `days` before today, as the API and the date fields write it. */
const dayAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10);

type Sum = { jobs: number; pages: number; sheets: number; colorPages: number };

// Ordered steps sharing one signed-in admin page, each starting where the one before left off.
describe('the usage screen in a browser', { timeout: 75_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let token: string;
  let person: Person;
  let personId: string;
  /** What was printed over the period, per printer and per person: the figures the screen must show. */
  const expected = { printer: new Map<string, Sum>(), user: new Map<string, Sum>() };
  const count = (map: Map<string, Sum>, key: string, pages: number, sheets: number, colorPages: number) => {
    const sum = map.get(key) ?? { jobs: 0, pages: 0, sheets: 0, colorPages: 0 };
    map.set(key, { jobs: sum.jobs + 1, pages: sum.pages + pages, sheets: sum.sheets + sheets, colorPages: sum.colorPages + colorPages });
  };

  beforeAll(async () => {
    const app = await startPrintingApp(ada, ben);
    ({ host, browser, tenant, admin, token, person, personId } = app);
    count(expected.printer, app.printers.floor.deviceId, app.printed.pages, app.printed.sheets, app.printed.colorPages);
    count(expected.user, personId, app.printed.pages, app.printed.sheets, app.printed.colorPages);
    // The volume: 24 jobs over the last 20 days, by both people at both printers.
    const { store } = await host.services();
    for (let i = 0; i < 24; i++) {
      const owner = i % 3 === 0 ? { id: personId, username: person.username } : { id: app.adminId, username: admin.username };
      const printer = i % 2 === 0 ? app.printers.floor : app.printers.lobby;
      const [pages, sheets, colorPages] = [2 + i, 1 + i, i % 4 === 0 ? i : 0];
      const at = new Date(Date.now() - (i % 20) * DAY_MS);
      const job = printedJob({ tenantId: app.tenantId, userId: owner.id, username: owner.username }, printer.deviceId, at, {
        pages,
        sheets,
        colorPages,
        duplex: true,
        paperSize: 'A4',
      });
      await recordUsage(store, job, at);
      count(expected.printer, printer.deviceId, pages, sheets, colorPages);
      count(expected.user, owner.id, pages, sheets, colorPages);
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
    ({ context, page, problems } = await openApp(browser, 'en-GB', DESKTOP));
    page.setDefaultTimeout(10_000);
    await page.goto(`${host.url}/app/admin/usage`);
    await signInWithKeyboard(page, tenant, admin);
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

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedSession, enrolledPrinter, freshTenant } from '../helpers/fixtures.js';
import { api, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { WEB_ROOT, checkScreen, launchChromium, openApp, signInWithKeyboard, tabTo } from '../helpers/web-app.js';

/**
 * My jobs (web/src/JobsPage.tsx) with a job the printer could not print: it reads "Not printed"
 * with the printer's reason in the person's language ("Non imprimé", "Bourrage papier"), says
 * what can be done, passes axe in both languages, and can be cancelled like a queued job
 * (docs/flows.md#release-to-printers). The failure is reported through the API as a printer does.
 */
const admin: Person = { email: 'ops@northwind.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const dana: Person = { email: 'dana@northwind.test', username: 'dana', fullName: 'Dana Doe', password: 'dana-password-12' };

describe('a failed job in My jobs', { timeout: 30_000 }, () => {
  let host: TestHost;
  let browser: Browser;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startTestHost({ env: oauthEnv, webRoot: WEB_ROOT }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('shows Not printed with the reason in English and French, and cancels it by keyboard', async () => {
    const tenant = await freshTenant(host, 'northwind', admin, [dana]);
    const member = tenant.users[0]!;
    const printer = await enrolledPrinter(host, tenant.admin.token, 'MFP-2F');
    const created = await api(host, member.token, 'POST', '/api/jobs', { fileName: 'Jammed minutes.pdf', size: 2048 });
    await api(host, member.token, 'POST', `/api/jobs/${created.body.id}/ready`);
    const session = await approvedSession(host, printer, member.token);
    const failed = await api(host, session.token, 'POST', `/api/jobs/${created.body.id}/printed`, { failed: 'paper-jam' });
    expect(failed.body.state).toBe('failed');

    const { context, page, problems } = await openApp(browser, 'en-GB');
    await page.goto(`${host.url}/app/`);
    await signInWithKeyboard(page, tenant.slug, dana);
    const row = page.getByRole('row', { name: /Jammed minutes\.pdf/ });
    await row.waitFor();
    const found = await checkScreen(page, 'jobs-failed', (language) =>
      language === 'en'
        ? row.getByText('Paper jam. Release it again at a printer, or cancel it.').waitFor()
        : row.getByText('Bourrage papier. Libérez-le à nouveau à une imprimante, ou annulez-le.').waitFor(),
    );
    expect(found).toEqual([]);
    expect(await row.getByText('Not printed', { exact: true }).count()).toBe(1);

    await tabTo(page, 'Cancel: Jammed minutes.pdf');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel the job');
    await page.keyboard.press('Enter');
    await page.getByText('You have no print jobs.', { exact: false }).waitFor();
    expect((await api(host, member.token, 'GET', `/api/jobs/${created.body.id}`)).body.state).toBe('cancelled');

    expect(problems).toEqual([]);
    await context.close();
  });
});

import * as oauth from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinSession } from '../helpers/printer.js';
import { api, oauthClient, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { checkScreen, goInApp, openApp, signInWithKeyboard, startAdminApp, tabTo } from '../helpers/web-app.js';

/**
 * The admin story, one of the web app's two acceptance tests (docs/web-app.md#acceptance-tests),
 * in Debian's Chromium against the test host with no mocks of our API, keyboard first: an admin
 * signs in, creates a user by the form, enrolls a printer by the code its panel shows (the
 * printer's poll then gets its tokens), raises the shortest PIN in the policy and sees the effect
 * (the PIN the app then resets for the new user is that long, and works at the new printer), and
 * reads those three actions in the audit log, filtered by action.
 */
const grace: Person = { email: 'grace@fabrikam.test', username: 'grace', fullName: 'Grace Hopper', password: 'grace-password-123' };

/** Focus a field as Tab would reach it, select what it holds and type over it. */
async function retype(page: Page, label: string, text: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(text);
}

describe('the admin story: a user, a printer, the policy and the audit log', { timeout: 90_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let token: string;

  beforeAll(async () => {
    ({ host, browser, tenant, admin, token } = await startAdminApp(grace));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('creates a user, enrolls a printer by its code, changes the policy and sees its effect, reads and filters the audit log', async () => {
    const { context, page, problems } = await openApp(browser, 'en-GB');
    page.setDefaultTimeout(15_000);
    await page.goto(`${host.url}/app/admin/users`);
    await signInWithKeyboard(page, tenant, admin);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('row', { name: /Grace Hopper/ }).waitFor();

    // Users: a new user by the form, keyboard only.
    await tabTo(page, 'New user', 60);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.type('Lin Chen');
    await page.keyboard.press('Tab');
    await page.keyboard.type('lin');
    await page.keyboard.press('Tab');
    await page.keyboard.type('lin@fabrikam.test');
    await page.keyboard.press('Enter');
    await page.getByRole('status').getByText('Lin Chen is created.').waitFor();
    const [lin] = (await api(host, token, 'GET', '/api/users?q=lin%40fabrikam.test')).body.items as { id: string }[];
    expect(lin).toMatchObject({ username: 'lin', fullName: 'Lin Chen', role: 'user' });

    // Printers: the panel of a new printer asks to be enrolled (RFC 8628) and shows its code; the admin types it.
    const emb = await oauthClient(host, 'roger-emb');
    const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
    const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);
    polling.catch(() => undefined); // awaited below; a refusal fails the test there, not as an unhandled rejection
    await goInApp(page, '/app/admin/printers');
    await page.getByRole('heading', { name: 'Printers', level: 2 }).waitFor();
    await page.getByRole('textbox', { name: /Code on the printer/ }).focus();
    await page.keyboard.type(authorization.user_code);
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: /^Name/ }).focus();
    await page.keyboard.type('Finance MFP');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Building C, 3rd floor');
    await page.keyboard.press('Enter');
    await page.getByText('Finance MFP is enrolled.', { exact: false }).waitFor();
    const tokens = await polling;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    const [device] = (await api(host, token, 'GET', '/api/devices')).body.items as { id: string }[];
    expect(device).toMatchObject({ name: 'Finance MFP', location: 'Building C, 3rd floor', status: 'connected' });
    await page.getByRole('row', { name: /Finance MFP/ }).waitFor();

    // Policy: the shortest PIN goes from 4 to 8 digits, by keyboard.
    await goInApp(page, '/app/admin/policy');
    await page.getByRole('heading', { name: 'Policy', exact: true }).waitFor();
    expect(await page.getByLabel('Shortest PIN (digits)', { exact: true }).inputValue()).toBe('4');
    await retype(page, 'Shortest PIN (digits)', '8');
    await page.keyboard.press('Enter');
    await page.getByText('The policy is saved.', { exact: false }).waitFor();
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy.pinMinLength).toBe(8);

    // Its effect, seen in the app: the PIN reset for Lin is now 8 digits, and it signs Lin in at the new printer.
    await goInApp(page, `/app/admin/users?user=${lin!.id}`);
    await page.getByRole('heading', { name: 'Lin Chen', level: 2 }).waitFor();
    await tabTo(page, 'Reset the PIN', 60);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Enter'); // the dialog's first button: Reset the PIN
    const pin = (await page.getByTestId('one-time-pin').textContent()) ?? '';
    expect(pin).toMatch(/^[0-9]{8}$/);
    expect(await pinSession(host, { access: tokens.access_token }, 'lin', pin)).toBeTruthy();
    await page.getByRole('button', { name: 'Close' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor({ state: 'detached' });

    // Audit log: the three actions, newest first; then only the enrollment, by the action filter.
    await goInApp(page, '/app/admin/audit');
    await page.getByRole('heading', { name: 'Audit log', exact: true }).waitFor();
    const rows = page.getByRole('table').getByRole('row');
    await page.getByRole('row', { name: /PIN reset/ }).waitFor();
    const actions = await rows.evaluateAll((all) => {
      const cells = (row: (typeof all)[number]) => [...row.querySelectorAll('th, td')].map((cell) => cell.textContent?.trim());
      const column = cells(all[0]!).indexOf('Action');
      return all.slice(1).map((row) => cells(row)[column]);
    });
    expect(actions).toEqual(['PIN reset', 'Policy changed', 'Printer enrolled', 'User created']);
    expect(await page.getByRole('row', { name: /Policy changed.*policy\.pinMinLength/ }).count()).toBe(1);
    const audit = (await api(host, token, 'GET', '/api/audit')).body.items as { action: string; targetId?: string }[];
    expect(audit.find((r) => r.action === 'device.enrolled')?.targetId).toBe(device!.id);
    expect(audit.find((r) => r.action === 'user.created')?.targetId).toBe(lin!.id);

    await page.getByLabel('Action').focus();
    await page.getByLabel('Action').selectOption('device.enrolled');
    await tabTo(page, 'Apply filters', 60);
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByRole('row', { name: /Printer enrolled/ }).waitFor();
    // The new action's words in both languages (the per-screen test covers the log's other states).
    expect(
      await checkScreen(page, 'admin-story-audit-enrolled', (language) =>
        page.getByRole('row', { name: language === 'fr' ? /Imprimante enregistrée/ : /Printer enrolled/ }).waitFor(),
      ),
    ).toEqual([]);
    await page.getByLabel('Action').selectOption('user.created');
    await tabTo(page, 'Apply filters', 60);
    await page.keyboard.press('Enter');
    await page.getByRole('row', { name: /User created/ }).waitFor();
    await expect.poll(() => rows.count()).toBe(2);

    expect(problems).toEqual([]);
    await context.close();
  });
});

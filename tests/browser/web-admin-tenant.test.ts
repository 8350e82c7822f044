import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { axe, checkScreen, goInApp, openApp, shots, signInWithKeyboard, startAdminApp, switchLanguage } from '../helpers/web-app.js';

/**
 * The tenant admin screens of the web app (docs/web-app.md, "Admin: policy, scan profiles, audit,
 * identity") in Chromium against the test host, no mocks: an admin changes the policy by keyboard
 * and sees, next to a refused field, what that field takes in the screen's own words (never the
 * validator's English in French); creates, edits and deletes a scan profile; reads and filters the
 * audit log by action and time, and pages through it when a page fails to load; creates a SCIM token (shown once) that then
 * works against /scim/v2, and revokes it. axe and screenshots for every screen in both languages.
 */
const BAD_REQUEST = 'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)';
const CONFLICT = 'console error: Failed to load resource: the server responded with a status of 409 (Conflict)';

const ada: Person = { email: 'ada@fabrikam.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-123' };

// Ordered steps sharing one signed-in page (vitest runs a file's tests in order): each step starts
// where the one before left off, so a failed step fails the ones after it. One step takes under
// 15 s alone and about 35 s on a loaded 2-core CI machine: the timeout leaves twice that.
describe('the tenant admin screens in a browser', { timeout: 75_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let token: string;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  /** Whole seconds after the last policy change, for the audit log's time filter. */
  let windowStart: number;

  beforeAll(async () => {
    ({ host, browser, tenant, admin, token } = await startAdminApp(ada));
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const heading = (page: Page, name: string) => page.getByRole('heading', { name, exact: true }).waitFor();
  /** What a screen reader hears after the field's label: its hint and validation message. */
  const description = async (page: Page, label: string) => {
    const ids = ((await page.getByLabel(label, { exact: true }).getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
    return texts.join(' ');
  };
  const groupDescription = async (page: Page, name: string) => {
    const ids = ((await page.getByRole('group', { name }).getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    return (await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()))).join(' ');
  };
  const found: string[] = [];
  /** A modal dialog as it is now: axe and screenshots (checkScreen cannot reach the language switch behind it). */
  const checkDialog = async (page: Page, name: string) => {
    found.push(...(await axe(page)).map((line) => `${name}: ${line}`));
    await shots(page, name);
  };
  const retypeByKeyboard = async (page: Page, label: string, text: string) => {
    await page.getByLabel(label, { exact: true }).focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(text);
  };
  const localInput = (page: Page, ms: number) =>
    page.evaluate((time) => {
      const d = new Date(time);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, ms);

  it('policy: a change by keyboard, a refused value and a conflict at their fields, checked through the API', async () => {
    ({ context, page, problems } = await openApp(browser, 'en-GB'));
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.url });
    page.setDefaultTimeout(10_000);
    await page.goto(`${host.url}/app/admin/policy`);
    await signInWithKeyboard(page, tenant, admin);
    await heading(page, 'Policy');
    await page.getByLabel('Keep print jobs (days)', { exact: true }).waitFor();
    expect(await page.getByText('Roger password', { exact: true }).count()).toBeGreaterThan(0);

    // A valid change by keyboard: retype, Enter submits; only that field is sent.
    const patches: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH' && request.url().endsWith('/api/tenant')) patches.push(request.postData() ?? '');
    });
    await retypeByKeyboard(page, 'Keep print jobs (days)', '14');
    await page.keyboard.press('Enter');
    await page.getByText('The policy is saved.', { exact: false }).waitFor();
    expect(patches).toEqual([JSON.stringify({ policy: { jobRetentionDays: 14 } })]);
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy.jobRetentionDays).toBe(14);
    // Its effect: a new job is kept 14 days.
    const job = await api(host, token, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
    expect(Date.parse(job.body.expiresAt) - Date.parse(job.body.createdAt)).toBe(14 * 86_400_000);

    // A refused value: what the field takes, in the screen's words, next to it; nothing saved.
    await retypeByKeyboard(page, 'Keep print jobs (days)', '200');
    await page.keyboard.press('Enter');
    await page.getByText('Not accepted: a whole number from 1 to 90.').waitFor();
    expect(await description(page, 'Keep print jobs (days)')).toContain('Not accepted: a whole number from 1 to 90.');
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    expect(await page.getByLabel('Keep print jobs (days)', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect((await api(host, token, 'GET', '/api/tenant')).body.policy.jobRetentionDays).toBe(14);
    found.push(
      ...(await checkScreen(page, 'admin-policy-error', (language) =>
        heading(page, language === 'fr' ? 'Règles' : 'Policy').then(() =>
          page
            .getByText(
              language === 'fr' ? 'Valeur refusée\u00a0: un nombre entier de 1 à 90.' : 'Not accepted: a whole number from 1 to 90.',
            )
            .waitFor(),
        ),
      )),
    );

    // A conflict (password sign-in stays on until Entra ID is connected): its words at that field.
    await page.getByRole('button', { name: 'Undo my changes' }).click();
    await page.getByRole('checkbox', { name: 'Microsoft account' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('checkbox', { name: 'Roger password' }).focus();
    await page.keyboard.press('Space');
    expect(await page.getByRole('checkbox', { name: 'Microsoft account' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).focus();
    await page.keyboard.press('Enter');
    await page
      .getByText('Not accepted: password sign-in can be turned off only once the organisation is connected', { exact: false })
      .waitFor();
    expect(await groupDescription(page, 'Ways to sign in to the apps')).toMatch(
      /Not accepted: password sign-in can be turned off only once/,
    );
    expect(problems.splice(0)).toEqual([CONFLICT]);
    expect((await api(host, token, 'GET', '/api/tenant')).body.signInMethods).toEqual(['password']);
    await page.getByRole('button', { name: 'Undo my changes' }).click();
    const lastPolicyChange = Date.parse((await api(host, token, 'GET', '/api/audit?action=tenant.policy-changed')).body.items[0].at);

    // A window in whole seconds that starts after the policy change: the server's clock moves on two
    // seconds, so what follows is recorded inside it (no waiting on the wall clock).
    windowStart = Math.floor(lastPolicyChange / 1000) * 1000 + 1000;
    host.advanceClock(2);
  });

  it('scan profiles: create by keyboard, edit, delete after confirmation', async () => {
    // Scan profiles: create by keyboard, edit, delete after confirmation.
    await goInApp(page, '/app/admin/scan-profiles');
    await heading(page, 'Scan profiles');
    await page.getByText('There are no scan profiles yet.', { exact: false }).waitFor();
    const dialog = page.getByRole('dialog');
    // The dialog with the API's words next to the name (sent empty), in French then in English:
    // the language switch sits behind a modal dialog, so the dialog is opened once in each.
    await switchLanguage(page, 'fr');
    await page.getByRole('button', { name: 'Nouveau profil' }).click();
    await dialog.getByRole('button', { name: 'Enregistrer' }).click();
    await dialog.getByText('Valeur refusée\u00a0: de 1 à 80\u00a0caractères, sans caractère de contrôle.').waitFor();
    expect(await dialog.getByText('must NOT', { exact: false }).count()).toBe(0);
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    await checkDialog(page, 'admin-scan-profile-dialog-fr');
    await dialog.getByRole('button', { name: 'Annuler' }).click();
    await dialog.waitFor({ state: 'detached' });
    await switchLanguage(page, 'en');
    await page.getByRole('button', { name: 'New scan profile' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Not accepted: 1 to 80 characters, no control characters.').waitFor();
    expect(await description(page, 'Name')).toContain('Not accepted: 1 to 80 characters, no control characters.');
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    await checkDialog(page, 'admin-scan-profile-dialog-en');
    await page.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.type('Invoices');
    await page.getByLabel('Resolution').selectOption('600');
    await page.getByLabel('Name', { exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('“Invoices” is created.').waitFor();
    const [profile] = (await api(host, token, 'GET', '/api/scan-profiles')).body.items;
    expect(profile).toMatchObject({ name: 'Invoices', format: 'pdf', resolution: 600, roles: ['user', 'admin'] });

    await page.getByRole('button', { name: 'Edit Invoices' }).click();
    await retypeByKeyboard(page, 'Name', 'Invoices (grey)');
    await page.getByLabel('Colour').selectOption('grayscale');
    await page.keyboard.press('Tab');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText('“Invoices (grey)” is saved.').waitFor();
    expect((await api(host, token, 'GET', `/api/scan-profiles/${profile.id}`)).body).toMatchObject({
      name: 'Invoices (grey)',
      color: 'grayscale',
    });
    found.push(
      ...(await checkScreen(page, 'admin-scan-profiles', (language) =>
        heading(page, language === 'fr' ? 'Profils de numérisation' : 'Scan profiles'),
      )),
    );

    await page.getByRole('button', { name: 'Delete Invoices (grey)' }).focus();
    await page.keyboard.press('Enter');
    await dialog.getByText('Delete “Invoices (grey)”?').waitFor();
    await dialog.getByRole('button', { name: 'Delete the profile' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('“Invoices (grey)” is deleted.').waitFor();
    expect((await api(host, token, 'GET', `/api/scan-profiles/${profile.id}`)).status).toBe(404);
  });

  it('audit log: the records, by action and by time', async () => {
    // The audit log: the policy change is there; by action; by time (the policy change is outside).
    await goInApp(page, '/app/admin/audit');
    await heading(page, 'Audit log');
    const rows = page.getByRole('table').getByRole('row');
    await page
      .getByRole('row', { name: /Policy changed/ })
      .first()
      .waitFor();
    expect(await page.getByRole('row', { name: /Policy changed.*Fields: policy\.jobRetentionDays/ }).count()).toBe(1);
    expect(await rows.count()).toBe(1 + 4); // header, deleted, changed, created, policy

    await page.getByLabel('Action').selectOption('scan-profile.changed');
    await page.getByRole('button', { name: 'Apply filters' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.getByRole('row', { name: /Scan profile changed/ }).count()).toBe(1);

    await page.getByLabel('Action').selectOption('');
    await page.getByLabel('From').fill(await localInput(page, windowStart));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(1 + 3);
    expect(await page.getByRole('row', { name: /Policy changed/ }).count()).toBe(0);

    await page.getByLabel('Action').selectOption('tenant.policy-changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No record matches these filters.').waitFor();
    await page.getByLabel('Action').selectOption('scan-profile.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    found.push(
      ...(await checkScreen(page, 'admin-audit-filtered', (language) =>
        heading(page, language === 'fr' ? 'Journal d’audit' : 'Audit log'),
      )),
    );
  });

  it('identity: a SCIM token shown once works against /scim/v2, then revoked; connecting Entra ID', async () => {
    // Identity: a SCIM token, shown once, works against /scim/v2; revoked, it is refused.
    await goInApp(page, '/app/admin/identity');
    await heading(page, 'Identity');
    await page.getByText('There are no SCIM tokens.', { exact: false }).waitFor();
    expect(await page.getByLabel('SCIM address (Tenant URL)').first().inputValue()).toBe(`${host.url}/scim/v2`);
    await page.getByRole('button', { name: 'New SCIM token' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Name', { exact: true }).waitFor();
    await page.keyboard.type('Entra provisioning');
    await retypeByKeyboard(page, 'Valid for (days)', '731');
    await page.keyboard.press('Enter');
    await page.getByText('Not accepted: a whole number of days from 1 to 730.').waitFor();
    expect(problems.splice(0)).toEqual([BAD_REQUEST]);
    await retypeByKeyboard(page, 'Valid for (days)', '30');
    await page.keyboard.press('Enter');
    const once = page.getByRole('alertdialog');
    await once.getByText('Copy the token now').waitFor();
    const secret = await once.getByLabel('Token', { exact: true }).inputValue();
    expect(secret).toMatch(/^scim1\./);
    await once.getByRole('button', { name: 'Copy: Token' }).click();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    expect(await page.evaluate<string>('JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })')).not.toContain(
      secret.slice(-20),
    );
    const scimUsers = () => fetch(`${host.url}/scim/v2/Users`, { headers: { Authorization: `Bearer ${secret}` } }).then((r) => r.status);
    expect(await scimUsers()).toBe(200);
    await checkDialog(page, 'admin-identity-token-en');
    await once.getByRole('button', { name: 'I have copied it' }).focus();
    await page.keyboard.press('Enter');
    await once.waitFor({ state: 'detached' });
    expect(await page.getByText(secret).count()).toBe(0);
    const tokenRow = page.getByRole('row', { name: /Entra provisioning/ });
    await tokenRow.getByText('Active').waitFor();
    const [listed] = (await api(host, token, 'GET', '/api/tenant/scim-tokens')).body.items;
    expect(listed).toMatchObject({ name: 'Entra provisioning' });
    expect(Date.parse(listed.expiresAt) - Date.parse(listed.createdAt)).toBe(30 * 86_400_000);

    await page.getByRole('button', { name: 'Revoke Entra provisioning' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke the token' }).click();
    await page.getByText('“Entra provisioning” is revoked.').waitFor();
    await tokenRow.getByText('Revoked').waitFor();
    expect(await scimUsers()).toBe(401);

    // The one-time token dialog in French: a second token, created and left unused.
    await switchLanguage(page, 'fr');
    await page.getByRole('button', { name: 'Nouveau jeton SCIM' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Créer' }).click();
    await once.getByText('Copiez le jeton maintenant').waitFor();
    await checkDialog(page, 'admin-identity-token-fr');
    await once.getByRole('button', { name: 'Je l’ai copié' }).click();
    await once.waitFor({ state: 'detached' });
    await switchLanguage(page, 'en');

    // Connecting Entra ID: the consent page is offered in a new tab, or the API's words say why not.
    await page.getByRole('button', { name: 'Connect Microsoft Entra ID' }).click();
    await page
      .getByText(/Open Microsoft’s consent page|Microsoft Entra ID could not be connected/)
      .first()
      .waitFor();
    // Without Microsoft sign-in in this deployment, the API answers 503 and the screen says so.
    const unavailable = await page.getByText('Microsoft Entra ID could not be connected').count();
    expect(problems.splice(0)).toEqual(
      unavailable ? ['console error: Failed to load resource: the server responded with a status of 503 (Service Unavailable)'] : [],
    );
    found.push(...(await checkScreen(page, 'admin-identity', (language) => heading(page, language === 'fr' ? 'Identité' : 'Identity'))));
  });

  it('audit log: a new filter aborts the read on its way; a page that fails to load is tried again', async () => {
    // The audit log again. A new filter aborts the read still on its way, so a slow answer to the
    // first filter never replaces the second's rows.
    await goInApp(page, '/app/admin/audit');
    await heading(page, 'Audit log');
    await page
      .getByRole('row', { name: /Policy changed/ })
      .first()
      .waitFor();
    const rows = page.getByRole('table').getByRole('row');
    const slow = /\/api\/audit\?.*action=scan-profile\.deleted/;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let slowOutcome: string | undefined;
    page.on('requestfinished', (request) => void (slow.test(request.url()) && (slowOutcome = 'answered')));
    page.on('requestfailed', (request) => void (slow.test(request.url()) && (slowOutcome = 'aborted')));
    await page.route(slow, async (route) => {
      await held;
      await route.continue().catch(() => undefined);
    });
    await page.getByLabel('Action').selectOption('scan-profile.deleted');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByLabel('Action').selectOption('scan-profile.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(2);
    release();
    await expect.poll(() => slowOutcome).toBeDefined();
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
    expect(slowOutcome).toBe('aborted');
    expect(await page.getByRole('row', { name: /Scan profile created/ }).count()).toBe(1);
    expect(await page.getByRole('row', { name: /Scan profile deleted/ }).count()).toBe(0);
    await page.unroute(slow);

    // A page at a time: 26 more changes of one profile make 27 such records, 25 to a page. The
    // next page failing to load keeps the rows shown and says so beside the button; tried again, it comes.
    const settings = { name: 'Paged', format: 'pdf', resolution: 300, color: 'color', duplex: false, roles: ['admin'], userIds: [] };
    const paged = (await api(host, token, 'POST', '/api/scan-profiles', settings)).body;
    for (let n = 0; n < 26; n++) await api(host, token, 'PATCH', `/api/scan-profiles/${paged.id}`, { ...settings, name: `Paged ${n}` });
    await page.getByLabel('Action').selectOption('scan-profile.changed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows.count()).toBe(1 + 25);
    await page.route(/\/api\/audit\?.*continuationToken=/, (route) => route.abort('connectionreset'), { times: 1 });
    await page.getByRole('button', { name: 'Show older records' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('The older records could not be loaded').waitFor();
    expect(await rows.count()).toBe(1 + 25);
    expect(problems.splice(0)).toEqual(['console error: Failed to load resource: net::ERR_CONNECTION_RESET']);
    await page.getByRole('button', { name: 'Show older records' }).click();
    await expect.poll(() => rows.count()).toBe(1 + 27);
    expect(await page.getByText('The older records could not be loaded').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Show older records' }).count()).toBe(0);

    expect(found).toEqual([]);
    // Every refused request was checked at the step that made it: nothing else was logged.
    expect(problems).toEqual([]);
    await context.close();
  });
});

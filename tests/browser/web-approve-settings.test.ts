import { readFile } from 'node:fs/promises';
import * as oauth from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolledPrinter, individual, uniqueName } from '../helpers/fixtures.js';
import { pinSession, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { WEB_ROOT, checkScreen, launchChromium, openApp, signInWithKeyboard, switchLanguage } from '../helpers/web-app.js';

/**
 * The web app's approve screen (where a printer's QR code lands, /app/approve?code=…) and Settings
 * (docs/web-app.md), in Debian's Chromium against the test host with no mocks: a signed-out phone
 * opens a session code's verification_uri_complete, signs in, sees the printer and the queued job,
 * approves (the printer's poll gets its session token, the job is released), denies a second code
 * typed by hand (access_denied), and reads an unknown code as plain words; an admin enrolls a
 * printer with its name and location; Settings changes the PIN (the tenant's minimum comes back as
 * the API's words next to the field), lists the sign-ins and downloads the export.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob Builder', password: 'bob-password-123', pin: '246813' };

/** Keyboard: focus the element (as Tab would reach it) and press Enter. */
async function press(page: Page, locator: ReturnType<Page['getByRole']>): Promise<void> {
  await locator.focus();
  await page.keyboard.press('Enter');
}

/** Moves within the app without a reload (tokens live in memory only): the router follows popstate. */
const goInApp = (page: Page, path: string) =>
  page.evaluate(`history.pushState(null, '', '${path}'); dispatchEvent(new PopStateEvent('popstate'))`);

// One signed-in tab goes through the steps in order, as a person would; each step is its own test
// so that a failure names it. Generous timeouts: axe and screenshots in two languages are slow on a
// busy machine.
describe('approving at a printer and settings in the web app', { timeout: 90_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let admin: Person;
  let person: Person;
  let personId: string;
  let adminToken: string;
  let printer: EnrolledPrinter;
  let tab: Awaited<ReturnType<typeof openApp>> | undefined;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startTestHost({ env: oauthEnv, webRoot: WEB_ROOT }), launchChromium()]);
    tenant = uniqueName('contoso');
    admin = individual(alice);
    person = individual(bob);
    await createTenant(host, tenant, admin, { pinMinLength: 6 });
    adminToken = (await mobileSignIn(host, tenant, admin)).access_token;
    const created = await api(host, adminToken, 'POST', '/api/users', person);
    expect(created.status).toBe(201);
    personId = created.body.id as string;
    printer = await enrolledPrinter(host, adminToken, 'MFP 3rd floor', 'Building A, room 301');
  });
  afterAll(async () => {
    await tab?.context.close();
    await browser?.close();
    await host?.close();
  });

  const sessionCode = async () => {
    const panel = await oauthClient(host, 'roger-emb', () => printer.access);
    const authorization = await oauth.initiateDeviceAuthorization(panel, { scope: 'session' });
    return { panel, authorization };
  };

  it('approves a session from the QR code after signing in: the printer gets its token, the job is released', async () => {
    const token = (await mobileSignIn(host, tenant, person)).access_token;
    const job = await api(host, token, 'POST', '/api/jobs', { fileName: 'Board minutes.pdf', size: 4096 });
    expect((await api(host, token, 'POST', `/api/jobs/${job.body.id}/ready`)).body.state).toBe('queued');

    const { panel, authorization } = await sessionCode();
    expect(authorization.verification_uri_complete).toBe(`${host.url}/app/approve?code=${authorization.user_code}`);
    const started = oauth.pollDeviceAuthorizationGrant(panel, authorization);

    // A signed-out phone scans the QR code: sign-in first, then back at the same code.
    tab = await openApp(browser, 'en-GB');
    const { page, problems } = tab;
    await page.goto(authorization.verification_uri_complete!);
    await signInWithKeyboard(page, tenant, person);
    expect(new URL(page.url()).search).toBe(`?code=${authorization.user_code}`);
    const asking = page.getByRole('heading', { name: 'The printer MFP 3rd floor (Building A, room 301) asks to start a session as you' });
    await asking.waitFor();
    expect(await page.getByRole('list', { name: '1 queued job' }).textContent()).toBe('Board minutes.pdf');
    expect(
      await checkScreen(page, 'approve-session', (language) =>
        page.getByRole('button', { name: language === 'fr' ? 'Accepter' : 'Approve' }).waitFor(),
      ),
    ).toEqual([]);

    await press(page, page.getByRole('button', { name: 'Approve' }));
    const done = page.getByRole('status');
    await done.getByText('Your session at MFP 3rd floor (Building A, room 301) has started').waitFor();
    expect(await done.textContent()).toContain('1 job was sent to the printer; none is still queued.');
    const session = await started;
    expect((await api(host, session.access_token, 'GET', '/api/me')).body).toMatchObject({ kind: 'session', user: { id: personId } });
    const jobs = (await api(host, token, 'GET', '/api/jobs')).body.items as { id: string; state: string }[];
    expect(jobs.find((j) => j.id === job.body.id)?.state).toMatch(/^(released|printed)$/);
    expect(await page.getByRole('link', { name: 'Go to my jobs' }).getAttribute('href')).toBe('/app/');
    expect(problems).toEqual([]);
  });

  it('denies a code typed by hand (the printer gets access_denied) and words an unknown code plainly', async () => {
    const { page, problems } = tab!;

    // A second code, typed by hand in lower case without the dash, denied by keyboard.
    const second = await sessionCode();
    const refused = oauthErrorOf(() => oauth.pollDeviceAuthorizationGrant(second.panel, second.authorization));
    await press(page, page.getByRole('link', { name: 'Enter another code' }));
    const field = page.getByRole('textbox', { name: 'Code' });
    await field.focus();
    await page.keyboard.type(second.authorization.user_code.replace('-', '').toLowerCase());
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/app/approve?code=${second.authorization.user_code}`);
    expect(await page.getByRole('list', { name: /queued/ }).count()).toBe(0);
    await page.getByText('You have nothing queued').waitFor();
    await press(page, page.getByRole('button', { name: 'Deny' }));
    await page.getByRole('status').getByText('The printer MFP 3rd floor (Building A, room 301) gets no access').waitFor();
    expect(await refused).toBe('access_denied');

    // A code nobody issued: plain words, and the field to try another.
    await press(page, page.getByRole('link', { name: 'Enter another code' }));
    await page.getByRole('textbox', { name: 'Code' }).fill('bcdf-ghjk');
    await page.keyboard.press('Enter');
    await page.getByText('This code does not work').waitFor();
    expect(await page.getByRole('textbox', { name: 'Code' }).inputValue()).toBe('BCDF-GHJK');
    expect(
      await checkScreen(page, 'approve-error', (language) =>
        page.getByText(language === 'fr' ? 'Ce code ne fonctionne pas' : 'This code does not work').waitFor(),
      ),
    ).toEqual([]);
    // A code of the wrong shape never reaches the API.
    await page.getByRole('textbox', { name: 'Code' }).fill('ABC');
    await page.keyboard.press('Enter');
    await page.getByText('A code is 8 letters, e.g. BCDF-GHJK.').waitFor();
    // Chromium logs every answer that is not OK: the unknown code's 404, and nothing else.
    expect(problems.splice(0)).toEqual(['console error: Failed to load resource: the server responded with a status of 404 (Not Found)']);
  });

  it('changes the PIN in Settings (the API’s words next to the field), switches language, lists sign-ins, downloads the export', async () => {
    const { page, problems } = tab!;

    // Settings: the same signed-in tab.
    await goInApp(page, '/app/settings');
    await page.getByRole('heading', { name: 'Settings', level: 2 }).waitFor();
    const signIns = page.getByRole('region', { name: 'My sign-ins' });
    await signIns.getByRole('table').waitFor();
    expect(await signIns.getByRole('row').count()).toBeGreaterThan(1);
    expect(await signIns.getByRole('row').nth(1).textContent()).toContain('Web app');
    expect(
      await checkScreen(page, 'settings', (language) =>
        page.getByRole('heading', { name: language === 'fr' ? 'Paramètres' : 'Settings', level: 2 }).waitFor(),
      ),
    ).toEqual([]);

    // Change the PIN, keyboard only: a wrong current PIN gets the API's words next to the field …
    const current = page.getByLabel('Current PIN or password');
    const next = page.getByLabel('New PIN', { exact: false });
    const submitPin = async (currentPin: string, newPin: string) => {
      await current.fill('');
      await next.fill('');
      await current.focus();
      await page.keyboard.type(currentPin);
      await page.keyboard.press('Tab');
      await page.keyboard.type(newPin);
      await page.keyboard.press('Enter');
    };
    await submitPin('999999', '135790');
    await page.getByText('the current PIN or password is wrong', { exact: false }).waitFor();
    expect(await current.getAttribute('aria-invalid')).toBe('true');
    expect(problems.splice(0)).toEqual(['console error: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
    // … the tenant's minimum (6 digits here) comes back from the API next to the new PIN …
    await submitPin(person.pin!, '1357');
    await page.getByText('the PIN must have at least 6 digits').waitFor();
    expect(await next.getAttribute('aria-invalid')).toBe('true');
    expect(problems.splice(0)).toEqual(['console error: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    // In French the refusal is in the screen's own words: the API's are English.
    await switchLanguage(page, 'fr');
    await page.getByText('Valeur refusée\u00a0: ce code PIN est trop court', { exact: false }).waitFor();
    expect(await page.getByText('the PIN must', { exact: false }).count()).toBe(0);
    await switchLanguage(page, 'en');
    await page.getByText('the PIN must have at least 6 digits').waitFor();
    // … and the right one changes it: the printer takes the new PIN, not the old one.
    await submitPin(person.pin!, '135790');
    await page.getByText('Your PIN is changed').waitFor();
    expect(await pinSession(host, printer, person.username, '135790')).toBeTruthy();
    await expect(pinSession(host, printer, person.username, person.pin!)).rejects.toThrow(/PIN sign-in: 4\d\d/);

    // The language radios are the header switch's language.
    await page.getByRole('radio', { name: 'English' }).focus();
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction("document.documentElement.lang === 'fr'");
    await page.getByRole('heading', { name: 'Paramètres', level: 2 }).waitFor();
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction("document.documentElement.lang === 'en'");

    // Download my data: a JSON file with a name, holding the person's email. The Blob URL outlives
    // the click (some browsers start the download later), so it is not let go at once.
    await page.evaluate(`{
      const revoke = URL.revokeObjectURL.bind(URL);
      window.revoked = [];
      URL.revokeObjectURL = (url) => {
        window.revoked.push(url);
        revoke(url);
      };
    }`);
    const downloading = page.waitForEvent('download');
    await press(page, page.getByRole('button', { name: 'Download my data' }));
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^roger-my-data-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
      exportedFor: string;
      profile: { email: string };
      jobs: unknown[];
    };
    expect(exported).toMatchObject({ exportedFor: personId, profile: { email: person.email } });
    expect(exported.jobs).toHaveLength(1);
    await page.getByText('Your file is downloaded.').waitFor();
    await page.evaluate('new Promise((resolve) => setTimeout(resolve, 0))');
    expect(await page.evaluate('window.revoked')).toEqual([]);

    // Each refused answer was checked at its step: nothing else was logged.
    expect(problems).toEqual([]);
    expect(
      await page.evaluate('JSON.stringify(Object.entries(sessionStorage)) + JSON.stringify(Object.entries(localStorage))'),
    ).not.toMatch(/eyJ|access_token|refresh_token|135790/);
  });

  it('lets an admin enroll a printer from its QR code, with a name and a location', async () => {
    const emb = await oauthClient(host, 'roger-emb');
    const enrollment = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
    expect(enrollment.verification_uri_complete).toBe(`${host.url}/app/approve?code=${enrollment.user_code}`);
    const enrolled = oauth.pollDeviceAuthorizationGrant(emb, enrollment);

    const { context, page, problems } = await openApp(browser, 'fr-FR');
    await page.goto(enrollment.verification_uri_complete!);
    await signInWithKeyboard(page, tenant, admin);
    await page.getByRole('heading', { name: 'Une nouvelle imprimante demande à rejoindre votre organisation' }).waitFor();
    expect(
      await checkScreen(page, 'approve-enrollment', (language) =>
        page.getByRole('button', { name: language === 'fr' ? 'Accepter' : 'Approve' }).waitFor(),
      ),
    ).toEqual([]);

    // Without a name the form says so and sends nothing.
    await press(page, page.getByRole('button', { name: 'Accepter' }));
    await page.getByText('Donnez un nom à l’imprimante.').waitFor();
    await page.getByRole('textbox', { name: /^Nom/ }).focus();
    await page.keyboard.type('Copier hall');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Building B, ground floor');
    await press(page, page.getByRole('button', { name: 'Accepter' }));
    await page.getByText('L’imprimante Copier hall est enregistrée').waitFor();

    const tokens = await enrolled;
    const me = (await api(host, tokens.access_token, 'GET', '/api/me')).body as { kind: string; device?: { id: string } };
    const devices = (await api(host, adminToken, 'GET', '/api/devices')).body.items as { name: string; location: string }[];
    expect(devices).toContainEqual(expect.objectContaining({ name: 'Copier hall', location: 'Building B, ground floor' }));
    expect(me.kind).toBe('device');
    expect(problems).toEqual([]);
    await context.close();
  });
});

import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { individual, uniqueName } from '../helpers/fixtures.js';
import { standInOf } from '../helpers/onedrive.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { PHONE, WEB_ROOT, axe, checkScreen, launchChromium, openApp, signInWithKeyboard } from '../helpers/web-app.js';

/**
 * "Print a file" and "OneDrive" (docs/web-app.md#printing-a-file-and-onedrive) in Chromium,
 * against the test host and its Graph stand-in: the not-connected state, connecting OneDrive in a
 * new tab, a 1 MiB document uploaded by the browser straight to the stand-in's upload URL (CORS,
 * Content-Range ranges of 320 KiB) with the progress bar seen moving, one range refused with 503
 * (which a browser never sends again by itself, so the app's own resume runs) and only that range
 * sent again after asking the session where it stands, the job queued; an upload cancelled, leaving
 * no job to print; then consent withdrawn (reconnect needed) and Disconnect after confirmation. axe
 * and screenshots for each state. The upload's other branches (a lost last answer, Retry-After, a
 * stalled range, giving up) run in Node against the same stand-in: tests/integration/web-upload.test.ts.
 */
const ivy: Person = { email: 'ivy@contoso.test', username: 'ivy', fullName: 'Ivy Print', password: 'ivy-password-123' };

/** Goes to a screen in the app without reloading it (a reload would lose the in-memory sign-in). */
const goTo = (page: Page, path: string) =>
  page.evaluate(`history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`);

/** Tab until the focused element's text is `text` (at most 30 steps). */
async function tabTo(page: Page, text: string): Promise<void> {
  const focused = () => page.evaluate('document.activeElement?.textContent?.trim()');
  for (let i = 0; i < 30 && (await focused()) !== text; i++) await page.keyboard.press('Tab');
  expect(await focused()).toBe(text);
}

// The steps after the first are ordered steps sharing one signed-in page (vitest runs a file's
// tests in order): each starts where the one before left off, so a failed step fails the ones after
// it. A step takes under 15 s alone and about 35 s on a loaded 2-core CI machine: the timeout leaves twice that.
describe('printing a file and OneDrive in a browser', { timeout: 75_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let ms: LocalMicrosoft;
  let tenant: string;
  let person: Person;
  let upn: string;
  let token: string;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const found: string[] = [];
  const bytes = randomBytes(1024 * 1024);

  beforeAll(async () => {
    [host, browser] = await Promise.all([
      startTestHost({
        env: { ...oauthEnv, ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'test', key: randomBytes(32).toString('base64') }] }) },
        webRoot: WEB_ROOT,
      }),
      launchChromium(),
    ]);
    ms = await standInOf(await host.services());
    tenant = uniqueName('contoso');
    person = individual(ivy);
    await createTenant(host, tenant, person);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  it('lets the web app reach the stand-in’s upload URLs and nothing else (connect-src)', async () => {
    const csp = (await fetch(`${host.url}/app/print`)).headers.get('content-security-policy')!;
    expect(csp).toContain(`connect-src 'self' ${new URL(ms.graphUrl).origin};`);
  });

  it('not connected, then connects OneDrive in a new tab by keyboard', async () => {
    upn = `${uniqueName('ivy')}@contoso.example`;
    ms.setDefaultAccount(upn);
    token = (await mobileSignIn(host, tenant, person)).access_token;
    ({ context, page, problems } = await openApp(browser, 'en-GB', PHONE, true)); // Microsoft's consent page (the stand-in) has a self-signed certificate
    await page.goto(`${host.url}/app/print`);
    await signInWithKeyboard(page, tenant, person);

    // Not connected: the print screen says so and leads to the OneDrive screen.
    await page.getByText('OneDrive is not connected').waitFor();
    found.push(
      ...(await checkScreen(page, 'print-not-connected', (language) =>
        page.getByText(language === 'en' ? 'OneDrive is not connected' : 'OneDrive n’est pas connecté').waitFor(),
      )),
    );
    await tabTo(page, 'Go to OneDrive');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'OneDrive' }).waitFor();
    await page.getByText('Not connected', { exact: true }).waitFor();
    found.push(
      ...(await checkScreen(page, 'onedrive-not-connected', (language) =>
        page.getByRole('button', { name: language === 'en' ? 'Connect OneDrive' : 'Connecter OneDrive' }).waitFor(),
      )),
    );

    // Connect, by keyboard: Microsoft's page opens in a new tab; this tab picks up the result.
    await tabTo(page, 'Connect OneDrive');
    const [consent] = await Promise.all([context.waitForEvent('page', { timeout: 5_000 }), page.keyboard.press('Enter')]);
    await consent.getByRole('heading', { name: 'OneDrive is connected' }).waitFor({ timeout: 5_000 });
    await consent.close();
    await page.getByText('OneDrive is connected. You can print files now.').waitFor({ timeout: 10_000 });
    expect((await api(host, token, 'GET', '/api/me')).body.onedrive.status).toBe('connected');
    found.push(
      ...(await checkScreen(page, 'onedrive-connected', (language) =>
        page.getByText(language === 'en' ? 'Connected since' : 'Connecté depuis', { exact: false }).waitFor(),
      )),
    );
  });

  it('prints a 1 MiB file with the progress bar moving and one refused range resumed', async () => {
    // The print form, empty; then a 1 MiB document and its options, by keyboard where a person would type.
    await goTo(page, '/app/print');
    await page.getByRole('button', { name: 'Print' }).waitFor();
    found.push(
      ...(await checkScreen(page, 'print-form', (language) =>
        page.getByRole('button', { name: language === 'en' ? 'Print' : 'Imprimer' }).waitFor(),
      )),
    );
    await page.getByRole('button', { name: 'Choose a file' }).waitFor();
    await page.locator('input[type=file]').setInputFiles({ name: 'Annual report.pdf', mimeType: 'application/pdf', buffer: bytes });
    await page.getByRole('spinbutton', { name: 'Copies' }).focus();
    await page.keyboard.press('ArrowUp'); // 2 copies
    await page.getByRole('switch', { name: 'Colour' }).focus();
    await page.keyboard.press('Space');
    await page.getByRole('combobox', { name: 'Paper size' }).selectOption('A3');

    // Every value the progress bar shows, recorded in the page as it changes.
    await page.evaluate(`(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        const value = document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow');
        if (value !== null && value !== undefined && window.progressSeen.at(-1) !== value) window.progressSeen.push(value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    })()`);
    // The first range is held mid-way (a slow network), looked at, and then refused with 503.
    const uploadedBefore = ms.stats.uploadedBytes;
    const requestsBefore = ms.requests.length;
    ms.holdUploadNext(1);
    await page.getByRole('button', { name: 'Print' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('progressbar').waitFor();
    found.push(
      ...(await checkScreen(page, 'print-uploading', (language) =>
        page.getByText(language === 'en' ? 'Sending “Annual report.pdf”' : 'Envoi de « Annual report.pdf »', { exact: false }).waitFor(),
      )),
    );
    ms.failUploadNext(1, 503, 1);
    ms.releaseUploads();
    await page.getByText('“Annual report.pdf” is queued.', { exact: false }).waitFor({ timeout: 20_000 });

    const seen = (await page.evaluate('window.progressSeen')) as string[];
    const intermediate = new Set(seen.map(Number).filter((value) => value > 0 && value < bytes.length));
    expect(intermediate.size, seen.join(' ')).toBeGreaterThanOrEqual(2);
    expect(ms.fileBytes(upn, 'Print/Annual report.pdf')?.equals(bytes)).toBe(true);
    expect(ms.stats.failedUploads).toBe(1);
    // Only the refused range went again, after asking the session where it stands: no byte twice.
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(bytes.length);
    const uploads = ms.requests
      .slice(requestsBefore)
      .filter((r) => r.path === '/upload/{session}' && r.method !== 'OPTIONS')
      .map((r) => `${r.method} ${r.status}`);
    expect(uploads).toEqual(['PUT 503', 'GET 200', 'PUT 202', 'PUT 202', 'PUT 202', 'PUT 201']);
    expect(problems.splice(0)).toEqual([
      'console error: Failed to load resource: the server responded with a status of 503 (Service Unavailable)',
    ]);
    const jobs = (await api(host, token, 'GET', '/api/jobs')).body.items;
    expect(jobs).toMatchObject([
      {
        fileName: 'Annual report.pdf',
        size: bytes.length,
        state: 'queued',
        document: 'onedrive',
        options: { copies: 2, color: true, duplex: true, paperSize: 'A3' },
      },
    ]);
    expect(host.traffic.largestRequestBody).toBeLessThan(64 * 1024); // the document never came through us
    found.push(
      ...(await checkScreen(page, 'print-queued', (language) =>
        page.getByRole('button', { name: language === 'en' ? 'See my jobs' : 'Voir mes impressions' }).waitFor(),
      )),
    );
    await tabTo(page, 'See my jobs');
    await page.keyboard.press('Enter');
    await page.getByRole('row', { name: /Annual report\.pdf/ }).waitFor();
  });

  it('an upload cancelled by keyboard leaves no job to print', async () => {
    // Cancelled by keyboard beside the progress bar: the session and the job are deleted.
    await goTo(page, '/app/print');
    await page.getByRole('button', { name: 'Choose a file' }).waitFor();
    await page.locator('input[type=file]').setInputFiles({ name: 'Changed my mind.pdf', mimeType: 'application/pdf', buffer: bytes });
    const beforeCancel = ms.requests.length;
    ms.holdUploadNext(1);
    await page.getByRole('button', { name: 'Print' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('progressbar').waitFor();
    await tabTo(page, 'Cancel');
    await page.keyboard.press('Enter');
    await page.getByText('The upload was cancelled', { exact: false }).waitFor();
    ms.releaseUploads();
    const cancelled = (await api(host, token, 'GET', '/api/jobs')).body.items.find(
      (job: { fileName: string }) => job.fileName === 'Changed my mind.pdf',
    );
    expect(cancelled?.state ?? 'gone').not.toBe('registered');
    expect(ms.fileBytes(upn, 'Print/Changed my mind.pdf')).toBeUndefined();
    const cancelRequests = ms.requests.slice(beforeCancel).filter((r) => r.path === '/upload/{session}' && r.method !== 'OPTIONS');
    expect(cancelRequests.map((r) => `${r.method} ${r.status}`)).toContain('DELETE 204');
    found.push(
      ...(await checkScreen(page, 'print-cancelled', (language) =>
        page.getByText(language === 'en' ? 'The upload was cancelled' : 'L’envoi a été annulé', { exact: false }).waitFor(),
      )),
    );
  });

  it('consent withdrawn asks to reconnect; Disconnect after confirmation', async () => {
    // Consent withdrawn at Microsoft: the next job is refused (409) and the OneDrive screen asks to reconnect.
    ms.revokeConsent(upn);
    expect((await api(host, token, 'POST', '/api/jobs', { fileName: 'b.pdf', size: 10 })).status).toBe(409);
    await goTo(page, '/app/onedrive');
    await page.getByText('Reconnect needed').waitFor();
    found.push(
      ...(await checkScreen(page, 'onedrive-reconnect', (language) =>
        page.getByRole('button', { name: language === 'en' ? 'Reconnect OneDrive' : 'Reconnecter OneDrive' }).waitFor(),
      )),
    );

    // Disconnect, by keyboard, after confirmation.
    await tabTo(page, 'Disconnect');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    found.push(...(await axe(page)).map((line) => `disconnect dialog: ${line}`));
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Disconnect');
    await page.keyboard.press('Enter');
    await page.getByText('OneDrive is disconnected.').waitFor();
    expect((await api(host, token, 'GET', '/api/me')).body.onedrive.status).toBe('not-connected');

    expect(found).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

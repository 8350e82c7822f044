import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { individual, uniqueName } from '../helpers/fixtures.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import {
  WEB_ROOT,
  axe,
  checkScreen,
  goInApp,
  launchChromium,
  openApp as openBrowser,
  shots,
  signInWithKeyboard as signIn,
} from '../helpers/web-app.js';

/**
 * The web app (web/, docs/web-app.md) as `npm run build` left it, served by the test host under
 * /app/, in Debian's Chromium: it signs in as roger-web through our sign-in page (keyboard only),
 * shows a job made through the API, cancels it after confirmation, and sends an expired session
 * back to sign-in and then to the same page. axe-core checks each screen in English and French;
 * screenshots at phone and desktop size land in test-results/web/. Any console error fails.
 */
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob Builder', password: 'bob-password-123' };

describe('the web app in a browser', { timeout: 30_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let tenant: string;
  let person: Person;

  beforeAll(async () => {
    [host, browser] = await Promise.all([startTestHost({ env: oauthEnv, webRoot: WEB_ROOT }), launchChromium()]);
    tenant = uniqueName('contoso');
    person = individual(bob);
    await createTenant(host, tenant, person);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  const openApp = (locale: string) => openBrowser(browser, locale);
  const signInWithKeyboard = (page: Parameters<typeof signIn>[0]) => signIn(page, tenant, person);

  it('is served under /app/: screens fall back to index.html (no-store), hashed assets are immutable, with a script-src self policy', async () => {
    const index = await fetch(`${host.url}/app/some/screen?x=1`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-store');
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    const script = /src="(\/app\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${host.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${host.url}/app/assets/gone-0000.js`)).status).toBe(404);
    expect((await fetch(`${host.url}/app/%2e%2e/%2e%2e/package.json`)).status).toBe(404);
    expect((await fetch(`${host.url}/app`, { redirect: 'manual' })).headers.get('location')).toBe('/app/');
  });

  it('signs in with PKCE, shows a queued job made through the API, and cancels it after confirmation, keyboard only', async () => {
    const token = (await mobileSignIn(host, tenant, person)).access_token;
    const created = await api(host, token, 'POST', '/api/jobs', { fileName: 'Quarterly report.pdf', size: 4096 });
    expect((await api(host, token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');

    const { context, page, problems } = await openApp('en-GB');
    await page.goto(`${host.url}/app/`);
    await signInWithKeyboard(page);
    const row = page.getByRole('row', { name: /Quarterly report\.pdf/ });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.getByText('Queued').count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await shots(page, 'jobs-en');

    // Keyboard only: Tab to the job's Cancel button, Enter opens the dialog, Enter confirms.
    const focusedLabel = () => page.evaluate("document.activeElement?.getAttribute('aria-label')");
    for (let i = 0; i < 10 && (await focusedLabel()) !== 'Cancel: Quarterly report.pdf'; i++) await page.keyboard.press('Tab');
    expect(await focusedLabel()).toBe('Cancel: Quarterly report.pdf');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Cancel this job?');
    expect(await axe(page)).toEqual([]);
    await shots(page, 'cancel-dialog-en');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel the job');
    await page.keyboard.press('Enter');
    await page.getByText('You have no print jobs.', { exact: false }).waitFor();
    expect((await api(host, token, 'GET', `/api/jobs/${created.body.id}`)).body.state).toBe('cancelled');
    await shots(page, 'empty-en');

    // The same screen in French, through the language switch (keyboard: focus, arrow, Enter).
    await page.getByRole('combobox', { name: 'Language' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Mes impressions' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('fr');
    expect(await page.getByRole('status').textContent()).toContain('« Quarterly report.pdf » est annulé.');
    expect(await axe(page)).toEqual([]);
    await shots(page, 'empty-fr');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('in French from the browser, an expired session goes back to sign-in and then to the same page', async () => {
    const token = (await mobileSignIn(host, tenant, person)).access_token;
    const created = await api(host, token, 'POST', '/api/jobs', { fileName: 'Plan.pdf', size: 10 });
    await api(host, token, 'POST', `/api/jobs/${created.body.id}/ready`);

    const { context, page, problems } = await openApp('fr-FR');
    await page.goto(`${host.url}/app/?view=all`);
    await signInWithKeyboard(page);
    expect(new URL(page.url()).search).toBe('?view=all');
    await page.getByRole('row', { name: /Plan\.pdf/ }).waitFor();
    expect(
      await page
        .getByRole('row', { name: /Plan\.pdf/ })
        .getByText('En attente')
        .count(),
    ).toBe(1);
    expect(await axe(page)).toEqual([]);
    await shots(page, 'jobs-fr');

    // Past the refresh token's lifetime: the list's next live read is refused, renewal fails, and
    // the app goes back to the sign-in page by itself, then returns to /app/?view=all.
    host.advanceClock(200 * 24 * 3600);
    await signInWithKeyboard(page);
    expect(new URL(page.url()).search).toBe('?view=all');
    await page.getByRole('heading', { name: 'Mes impressions' }).waitFor();
    // Expected on this path, exactly: the API's one 401, then the token endpoint's one 400
    // (invalid_grant) for the dead refresh token; nothing else.
    expect(problems.map((line) => /the server responded with a status of (\d+)/.exec(line)?.[1] ?? line)).toEqual(['401', '400']);
    await context.close();
  });

  it('renews the access token a minute before it expires, with the rotating refresh token, without leaving the page', async () => {
    const { context, page, problems } = await openApp('en-GB');
    // The page's clock only: the server keeps real time, so the renewed tokens are genuinely valid.
    await page.clock.install();
    const grants: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/oauth/token')) grants.push(new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '');
    });
    await page.goto(`${host.url}/app/`);
    await signInWithKeyboard(page);
    await page.getByRole('heading', { name: 'My jobs' }).waitFor();
    expect(grants).toEqual(['authorization_code']);

    // The access token lives 1,200 s; renewal is due 60 s before that, at 19:00.
    await page.clock.fastForward('18:58');
    expect(grants).toEqual(['authorization_code']);
    const renewed = page.waitForResponse((response) => response.url().endsWith('/oauth/token'));
    await page.clock.fastForward('00:03');
    expect((await renewed).status()).toBe(200);
    expect(grants).toEqual(['authorization_code', 'refresh_token']);
    // Still on the page, still able to call the API with the new token.
    await page.clock.fastForward('00:06');
    await page.getByRole('heading', { name: 'My jobs' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/');

    // An address that is no screen: the shell says so in words, with the way home, in both languages.
    await goInApp(page, '/app/no-such-screen');
    await page.getByRole('heading', { name: 'This page does not exist' }).waitFor();
    expect(
      await checkScreen(page, 'not-found', (language) =>
        page.getByRole('heading', { name: language === 'fr' ? 'Cette page n’existe pas' : 'This page does not exist' }).waitFor(),
      ),
    ).toEqual([]);
    await page.getByRole('link', { name: 'Go to my jobs' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My jobs' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/app/');
    expect(problems).toEqual([]);
    await context.close();
  });
});

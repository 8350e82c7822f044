import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as oauth from 'openid-client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { individual, uniqueName } from '../helpers/fixtures.js';
import { api, OPERATOR_KEY, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { axe } from '../helpers/web-app.js';

/**
 * The authorization endpoint's sign-in page in a real browser (Debian's Chromium through
 * playwright-core), with a stock client: openid-client 6 runs the authorization code grant with
 * PKCE unchanged, checking `iss` (RFC 9207) because the metadata says the server sends it. The
 * page is driven with the keyboard only; axe-core checks each page in English and French, and a
 * screenshot of each lands in test-results/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const FOCUSED = `(() => { const el = document.activeElement; return !el || el === document.body ? 'body' : el.id || (el.textContent || '').trim(); })()`;

const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };

/** The desktop app's loopback listener (RFC 8252 §7.3): records where the browser was sent. */
async function loopbackListener(address = '127.0.0.1'): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>Signed in</title><p>You can close this window.</p></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe('the sign-in page of the authorization endpoint in a browser', () => {
  let host: TestHost;
  let browser: Browser;
  let loopback: Awaited<ReturnType<typeof loopbackListener>>;
  let passwordTenant: string;
  let bothTenant: string;
  let admin: Person;

  async function operatorCreatesTenant(body: Record<string, unknown>) {
    const response = await fetch(`${host.url}/api/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(201);
  }

  beforeAll(async () => {
    [host, browser, loopback] = await Promise.all([
      startTestHost({ env: oauthEnv }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
      loopbackListener(),
    ]);
    mkdirSync(RESULTS, { recursive: true });
    admin = individual(alice);
    passwordTenant = uniqueName('contoso');
    await operatorCreatesTenant({ slug: passwordTenant, name: 'Contoso', admin });
    bothTenant = uniqueName('fabrikam');
    await operatorCreatesTenant({
      slug: bothTenant,
      name: 'Fabrikam',
      admin: individual(alice),
      bindEntraOnFirstAdminSignIn: true,
      policy: { signInMethods: ['microsoft', 'password'] },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
    loopback?.server.close();
  });

  async function openPage(locale = 'en-GB'): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    return { context, page, problems };
  }
  /** Chromium logs every 4xx document; the tests ask for some on purpose. CSP violations still count. */
  const unexpected = (problems: string[]) =>
    problems.filter((line) => !/^console error: Failed to load resource: the server responded with a status of 4\d\d /.test(line));

  const focused = (page: Page) => page.evaluate(FOCUSED) as Promise<string>;

  async function authorizationUrl(client: oauth.Configuration) {
    const codeVerifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const url = oauth.buildAuthorizationUrl(client, {
      redirect_uri: `http://127.0.0.1:${loopback.port}/callback`,
      scope: 'jobs offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    return { url, codeVerifier, state };
  }

  it('openid-client runs the authorization code grant with PKCE through the page, checking iss; the tokens work and the refresh token rotates', async () => {
    const client = await oauthClient(host, 'roger-desktop');
    const { url, codeVerifier, state } = await authorizationUrl(client);
    const { context, page, problems } = await openPage();

    expect((await page.goto(url.href))?.status()).toBe(200);
    // Keyboard only: Tab to the field, type, Enter; then Tab through step 2 and Enter.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('account');
    await page.keyboard.type(passwordTenant);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await page.textContent('h1')).toBe('Sign in');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('username');
    await page.keyboard.type(admin.username);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('password');
    await page.keyboard.type(admin.password);
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/), page.keyboard.press('Enter')]);

    const callback = new URL(page.url());
    expect(callback.searchParams.get('iss')).toBe(host.url);
    expect(unexpected(problems)).toEqual([]); // no CSP violation on the way to the loopback redirect
    await context.close();

    const tokens = await oauth.authorizationCodeGrant(client, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    expect(tokens.scope).toBe('jobs offline_access');
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user.username).toBe(admin.username);

    const first = await oauth.refreshTokenGrant(client, tokens.refresh_token!);
    const second = await oauth.refreshTokenGrant(client, first.refresh_token!);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    await expect(oauth.refreshTokenGrant(client, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets the sign-in form end at an IPv6 loopback redirect too (CSP has no IPv6 host-source)', async () => {
    const v6 = await loopbackListener('::1');
    try {
      const client = await oauthClient(host, 'roger-desktop');
      const codeVerifier = oauth.randomPKCECodeVerifier();
      const url = oauth.buildAuthorizationUrl(client, {
        redirect_uri: `http://[::1]:${v6.port}/callback`,
        scope: 'jobs',
        code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      const { context, page, problems } = await openPage();
      await page.goto(url.href);
      await page.fill('#account', passwordTenant);
      await Promise.all([page.waitForNavigation(), page.press('#account', 'Enter')]);
      await page.fill('#username', admin.username);
      await page.fill('#password', admin.password);
      await Promise.all([page.waitForURL(/^http:\/\/\[::1\]:\d+\/callback\?/), page.press('#password', 'Enter')]);
      expect(unexpected(problems)).toEqual([]);
      const tokens = await oauth.authorizationCodeGrant(client, new URL(page.url()), { pkceCodeVerifier: codeVerifier });
      expect(tokens.scope).toBe('jobs');
      await context.close();
    } finally {
      v6.server.close();
    }
  });

  it('openid-client refuses a response whose iss is missing or another issuer’s: the metadata makes it check (RFC 9207)', async () => {
    const client = await oauthClient(host, 'roger-desktop');
    for (const [query, why] of [
      [`iss=${encodeURIComponent('https://evil.example')}`, 'unexpected "iss"'],
      ['', '"iss" (issuer) missing'],
    ] as const) {
      const response = new URL(`http://127.0.0.1:${loopback.port}/callback?code=x&state=s&${query}`);
      const grant = oauth.authorizationCodeGrant(client, response, {
        pkceCodeVerifier: oauth.randomPKCECodeVerifier(),
        expectedState: 's',
      });
      await expect(grant).rejects.toMatchObject({ cause: { message: expect.stringContaining(why) } });
    }
  });

  async function checkPage(page: Page, name: string) {
    await page.screenshot({ path: `${RESULTS}authorize-${name}.png`, fullPage: true });
    expect(await axe(page), name).toEqual([]); // axe-core put in the page once (tests/helpers/web-app.ts)
  }

  for (const [lang, locale, words] of [
    ['en', 'en-GB', { h1: 'Sign in', microsoft: 'Sign in with Microsoft', invalid: 'This sign-in link is not valid' }],
    ['fr', 'fr-FR', { h1: 'Connexion', microsoft: 'Se connecter avec Microsoft', invalid: 'Ce lien de connexion n’est pas valide' }],
  ] as const) {
    it(`passes axe-core (no serious or critical violations) on every page in ${lang === 'en' ? 'English' : 'French'}`, async () => {
      const client = await oauthClient(host, 'roger-desktop');
      const { url } = await authorizationUrl(client);
      const { context, page, problems } = await openPage(locale);

      await page.goto(url.href);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await page.textContent('h1')).toBe(words.h1);
      await checkPage(page, `${lang}-step1`);

      await page.fill('#account', bothTenant);
      await Promise.all([page.waitForNavigation(), page.press('#account', 'Enter')]);
      expect(await page.textContent('button >> nth=0')).toBe(words.microsoft);
      expect(await page.isVisible('#password')).toBe(true);
      await checkPage(page, `${lang}-step2`);

      await page.fill('#username', 'nobody');
      await page.fill('#password', 'not-the-password');
      await Promise.all([page.waitForNavigation(), page.press('#password', 'Enter')]);
      expect(await page.getAttribute('#password', 'aria-invalid')).toBe('true');
      expect(await page.textContent('[role="alert"]')).toBeTruthy();
      await checkPage(page, `${lang}-error`);

      await page.goto(`${host.url}/oauth/authorize?client_id=roger-desktop&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
      expect(await page.textContent('h1')).toBe(words.invalid);
      await checkPage(page, `${lang}-invalid-link`);
      expect(unexpected(problems)).toEqual([]);
      await context.close();
    }, 60_000);
  }
});

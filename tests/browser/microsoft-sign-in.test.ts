import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as oauth from 'openid-client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { individual, uniqueName } from '../helpers/fixtures.js';
import { api, createTenant, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { axe } from '../helpers/web-app.js';

/**
 * "Sign in with Microsoft" in a real browser (Debian's Chromium through playwright-core): a stock
 * openid-client 6 runs the authorization code grant with PKCE; the page sends the browser to the
 * local Entra stand-in over HTTPS (its self-signed certificate accepted: ignoreHTTPSErrors), which
 * signs the account in at once and returns to /oauth/microsoft/callback, which sends it on to the
 * desktop app's loopback redirect with our code. The refusal pages pass axe-core in English and
 * French; screenshots land in test-results/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;

const owner: Person = { email: 'owner@northwind.test', username: 'owner', fullName: 'Owner', password: 'owner-password-1' };

describe('Sign in with Microsoft in a browser', () => {
  let host: TestHost;
  let services: Services;
  let entra: LocalMicrosoft;
  let browser: Browser;
  let loopback: { server: Server; port: number };
  let slug: string;

  beforeAll(async () => {
    [host, browser] = await Promise.all([
      startTestHost({ env: oauthEnv }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
      }),
    ]);
    services = await host.services();
    entra = ((await services.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><html lang="en"><title>Signed in</title><p>You can close this window.</p></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    loopback = { server, port: (server.address() as AddressInfo).port };
    mkdirSync(RESULTS, { recursive: true });
    slug = uniqueName('northwind');
    const tenant = await createTenant(host, slug, individual(owner), { signInMethods: ['microsoft', 'password'] });
    await bindEntraTenant(services, tenant.id, CONTOSO, { kind: 'admin-consent', adminUserId: tenant.adminId }, silentLog);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
    loopback?.server.close();
  });

  async function startAt(locale = 'en-GB') {
    const client = await oauthClient(host, 'roger-desktop');
    const codeVerifier = oauth.randomPKCECodeVerifier();
    const state = oauth.randomState();
    const url = oauth.buildAuthorizationUrl(client, {
      redirect_uri: `http://127.0.0.1:${loopback.port}/callback`,
      scope: 'jobs offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(message.text());
    });
    await page.goto(url.href);
    await page.fill('#account', slug);
    await Promise.all([page.waitForNavigation(), page.press('#account', 'Enter')]);
    return { client, codeVerifier, state, context, page, problems };
  }

  async function checkPage(page: Page, name: string) {
    await page.screenshot({ path: `${RESULTS}microsoft-${name}.png`, fullPage: true });
    expect(await axe(page)).toEqual([]); // axe-core put in the page once (tests/helpers/web-app.ts)
  }

  it('signs a Contoso person in through the page and the stand-in; openid-client gets tokens that work', async () => {
    entra.setDefaultAccount('megan@contoso.example');
    const { client, codeVerifier, state, context, page, problems } = await startAt();
    await Promise.all([
      page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/),
      page.getByRole('button', { name: 'Sign in with Microsoft' }).click(),
    ]);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('iss')).toBe(host.url);
    expect(problems).toEqual([]); // no CSP violation on the way to Microsoft and back
    await context.close();

    const tokens = await oauth.authorizationCodeGrant(client, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'megan@contoso.example', fullName: 'Megan', role: 'user', hasPassword: false });
    const refreshed = await oauth.refreshTokenGrant(client, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
  });

  for (const [lang, locale, words] of [
    ['en', 'en-GB', 'This Microsoft organisation is not connected to'],
    ['fr', 'fr-FR', 'Cette organisation Microsoft n’est pas connectée à'],
  ] as const) {
    it(`an organisation that is not connected gets a clear page that passes axe-core (${lang})`, async () => {
      entra.setDefaultAccount('lee@fabrikam.example');
      const { context, page } = await startAt(locale);
      await Promise.all([page.waitForURL(/\/oauth\/microsoft\/callback\?/), page.getByRole('button').first().click()]);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await page.textContent('[role="alert"]')).toContain(words);
      await checkPage(page, `not-connected-${lang}`);
      await context.close();
    });
  }
});

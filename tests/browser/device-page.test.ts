import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader } from 'jose';
import * as oauth from 'openid-client';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The web verification page (docs/flows.md#the-web-verification-page, RFC 8628 `verification_uri`) in a real browser
 * (Debian's Chromium, driven by playwright-core): the desktop device flow completed with the
 * keyboard only, accessibility basics, deny, wrong passwords, CSRF, the ticket, printer pages.
 */
// Debian's Chromium by default; CI on GitHub's Ubuntu runners points this at their Google Chrome.
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../test-results/device-page.png', import.meta.url));

/*
 * In-page checks, as plain JavaScript evaluated in the browser (the project's type-check has no
 * DOM library). `IDENTIFY` names a control: its id, name=value for the decision buttons, or its text.
 */
const IDENTIFY = "(el) => el.id || (el.name ? el.name + '=' + el.value : (el.textContent || '').trim())";
const FOCUSED = `(() => {
  const el = document.activeElement;
  return !el || el === document.body ? 'body' : (${IDENTIFY})(el);
})()`;

interface AuditReport {
  lang: string;
  h1s: number;
  mains: number;
  viewport: string | null;
  unlabeled: string[];
  /** WCAG 2 contrast ratio of each element that has text of its own (or a typed value). */
  contrasts: { element: string; ratio: number }[];
  /** Visible links, buttons and fields in document order (none has a tabindex). */
  interactive: string[];
  alerts: string[];
  /** aria-describedby of every field marked aria-invalid. */
  describedBy: string[];
  foreignElements: number;
}

const AUDIT = `(() => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const fields = [...document.querySelectorAll('input, select, textarea')].filter((el) => el.type !== 'hidden' && visible(el));
  const unlabeled = fields
    .filter((el) => ![...(el.labels || [])].some((label) => (label.textContent || '').trim().length > 0))
    .map((el) => el.name || el.id);

  // WCAG 2.x relative luminance and contrast ratio.
  const channels = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
  const linear = (v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = channels(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const contrasts = [];
  for (const el of document.body.querySelectorAll('*')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim().length > 0);
    const typed = el instanceof HTMLInputElement && el.type !== 'hidden' && el.value.length > 0;
    if ((!ownText && !typed) || !visible(el)) continue;
    const a = luminance(channels(getComputedStyle(el).color));
    const b = luminance(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    contrasts.push({ element: el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''), ratio: Math.round(ratio * 100) / 100 });
  }

  const interactive = [...document.querySelectorAll('a[href], button, input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && visible(el))
    .map(${IDENTIFY});
  return {
    lang: document.documentElement.lang,
    h1s: document.querySelectorAll('h1').length,
    mains: document.querySelectorAll('main').length,
    viewport: document.querySelector('meta[name="viewport"]')?.getAttribute('content') ?? null,
    unlabeled,
    contrasts,
    interactive,
    alerts: [...document.querySelectorAll('[role="alert"]')].map((el) => el.id),
    describedBy: fields.filter((el) => el.getAttribute('aria-invalid') === 'true').map((el) => el.getAttribute('aria-describedby') || ''),
    foreignElements: document.querySelectorAll('script, img, link, iframe, object, embed').length,
  };
})()`;

const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob User', password: 'bob-password-1' };

/**
 * This page with the code filled in, as a person arrives who typed the address the panel shows:
 * the QR code (verification_uri_complete) opens the web app instead; ?user_code= keeps working
 * for QR codes printed before that.
 */
const typedCodeUrl = (authorization: { verification_uri: string; user_code: string }) =>
  `${authorization.verification_uri}?user_code=${authorization.user_code}`;

describe('the device verification page in a browser', () => {
  let host: TestHost;
  let browser: Browser;
  let aliceToken: string;
  let bobId: string;

  beforeAll(async () => {
    [host, browser] = await Promise.all([
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
    ]);
    await createTenant(host, 'contoso', alice);
    aliceToken = (await mobileSignIn(host, 'contoso', alice)).access_token;
    const created = await api(host, aliceToken, 'POST', '/api/users', { ...bob, role: 'user' });
    expect(created.status).toBe(201);
    bobId = created.body.id;
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
  });

  /** A fresh browser profile per test (no cookies carried over), phone-sized. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    return { context, page, problems };
  }

  /**
   * Console noise that is no fault of the page: Chromium logs every 4xx document it is served,
   * and these tests ask for 4xx pages on purpose (wrong password, expired code). Everything else
   * (CSP violations, script errors, other failed loads) still counts.
   */
  const unexpected = (problems: string[]) =>
    problems.filter((line) => !/^console error: Failed to load resource: the server responded with a status of 4\d\d /.test(line));

  /** Runs `action` and waits for the navigation it causes (a form post). */
  async function navigation(page: Page, action: () => Promise<unknown>): Promise<Response> {
    const [response] = await Promise.all([page.waitForNavigation(), action()]);
    if (!response) throw new Error('no navigation');
    return response;
  }

  async function signInOnPage(page: Page, person: Person, options: { tenant?: string; password?: string } = {}): Promise<Response> {
    await page.fill('#tenant', options.tenant ?? 'contoso');
    await page.fill('#username', person.username);
    await page.fill('#password', options.password ?? person.password);
    return navigation(page, () => page.press('#password', 'Enter'));
  }

  const h1 = (page: Page) => page.textContent('h1').then((text) => text?.trim());

  async function desktopAuthorization() {
    const desktop = await oauthClient(host, 'roger-desktop');
    const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs offline_access' });
    return { desktop, authorization };
  }

  /** What the element with focus is: its id, or name=value for the decision buttons, or its text. */
  const focused = (page: Page) => page.evaluate(FOCUSED) as Promise<string>;

  it('completes the desktop device flow with the keyboard only, and the client receives tokens', async () => {
    const { context, page, problems } = await openPage();
    const { desktop, authorization } = await desktopAuthorization();
    const polling = oauth.pollDeviceAuthorizationGrant(desktop, authorization);

    const first = await page.goto(typedCodeUrl(authorization));
    expect(first?.status()).toBe(200);
    expect(first?.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(await page.inputValue('#user_code')).toBe(authorization.user_code);

    // Keyboard only: focus the first field, Tab through the form, Enter to submit.
    await page.focus('#user_code');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('tenant');
    await page.keyboard.type('contoso');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('username');
    await page.keyboard.type('bob');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('password');
    await page.keyboard.type(bob.password);
    const confirmation = await navigation(page, () => page.keyboard.press('Enter'));
    expect(confirmation.status()).toBe(200);
    expect(await h1(page)).toBe('Approve this request?');
    const text = await page.textContent('main');
    expect(text).toContain('Roger for desktop');
    expect(text).toContain('roger-desktop');
    expect(text).toContain(authorization.user_code);
    expect(await page.content()).not.toContain(bob.password);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // The first Tab on the new page reaches Approve; Space presses it.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('decision=approve');
    const result = await navigation(page, () => page.keyboard.press('Space'));
    expect(result.status()).toBe(200);
    expect(await h1(page)).toBe('Done — return to your device');

    const tokens = await polling;
    expect(tokens.refresh_token).toMatch(/^rt1\.u\./);
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', user: { id: bobId } });
    expect(problems).toEqual([]);
    await context.close();
  });

  /** Labels, lang, one h1, WCAG contrast of every text, and Tab reaching every control in order. */
  async function checkAccessibility(page: Page, label: string) {
    const report = (await page.evaluate(AUDIT)) as AuditReport;
    expect(report.lang, label).toBe('en');
    expect(report.h1s, label).toBe(1);
    expect(report.mains, label).toBe(1);
    expect(report.viewport, label).toBe('width=device-width, initial-scale=1');
    expect(report.foreignElements, label).toBe(0);
    expect(report.unlabeled, label).toEqual([]);
    expect(report.contrasts.length, label).toBeGreaterThan(3);
    expect(
      report.contrasts.filter((c) => c.ratio < 4.5),
      label,
    ).toEqual([]);
    // Every invalid field points at the alert.
    for (const ids of report.describedBy)
      expect(
        report.alerts.some((id) => id && ids.split(' ').includes(id)),
        label,
      ).toBe(true);

    // Tab from the top of the page reaches every control, in document order.
    const order: string[] = [];
    for (let i = 0; i < report.interactive.length; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
    }
    expect(order, label).toEqual(report.interactive);

    // Readable at 360 px: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate('document.documentElement.scrollWidth'), label).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 390, height: 844 });
    return report;
  }

  it('passes basic accessibility checks on every step', async () => {
    const { context, page, problems } = await openPage();
    const { authorization } = await desktopAuthorization();

    await page.goto(`${host.url}/device`);
    const empty = await checkAccessibility(page, 'sign-in');
    expect(empty.interactive).toEqual(['user_code', 'tenant', 'username', 'password', 'Sign in and continue']);

    // The form again with an error: the alert is linked from the fields.
    await page.goto(typedCodeUrl(authorization));
    expect((await signInOnPage(page, bob, { password: 'not-the-password' })).status()).toBe(403);
    const withError = await checkAccessibility(page, 'sign-in with error');
    expect(withError.alerts).toEqual(['form-error']);
    expect(withError.describedBy).toContain('form-error');

    await page.goto(typedCodeUrl(authorization));
    expect((await signInOnPage(page, bob)).status()).toBe(200);
    const confirmation = await checkAccessibility(page, 'confirmation');
    expect(confirmation.interactive).toEqual(['decision=approve', 'decision=deny']);

    await navigation(page, () => page.press('button[value="approve"]', 'Enter'));
    expect(await h1(page)).toBe('Done — return to your device');
    await checkAccessibility(page, 'result');
    expect(unexpected(problems)).toEqual([]);
    await context.close();
  });

  it('denies: the polling client gets access_denied', async () => {
    const { context, page, problems } = await openPage();
    const { desktop, authorization } = await desktopAuthorization();
    const polling = oauthErrorOf(() => oauth.pollDeviceAuthorizationGrant(desktop, authorization));
    await page.goto(typedCodeUrl(authorization));
    expect((await signInOnPage(page, bob)).status()).toBe(200);
    const result = await navigation(page, () => page.press('button[value="deny"]', 'Enter'));
    expect(result.status()).toBe(200);
    expect(await h1(page)).toBe('Denied');
    expect(await page.textContent('main')).toContain('Roger for desktop gets no access');
    expect(await polling).toBe('access_denied');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('answers a wrong password, an unknown user and an unknown organization with one message (403), never echoing the password', async () => {
    const { context, page, problems } = await openPage();
    const { authorization } = await desktopAuthorization();
    const attempts = [
      { person: bob, password: 'wrong-password-123' },
      { person: { ...bob, username: 'nobody' }, password: 'wrong-password-456' },
      { person: bob, password: 'wrong-password-789', tenant: 'no-such-org' },
    ];
    const messages: string[] = [];
    for (const attempt of attempts) {
      await page.goto(typedCodeUrl(authorization));
      const response = await signInOnPage(page, attempt.person, attempt);
      expect(response.status()).toBe(403);
      expect(await h1(page)).toBe('Sign in to connect a device');
      const alerts = await page.locator('[role="alert"]').allTextContents();
      expect(alerts).toHaveLength(1);
      messages.push(alerts[0]!.trim());
      const html = await page.content();
      expect(html).not.toContain(attempt.password);
      expect(await page.inputValue('#password')).toBe('');
      // The code and username stay filled in; the password field points at the message.
      expect(await page.inputValue('#user_code')).toBe(authorization.user_code);
      expect(await page.getAttribute('#password', 'aria-describedby')).toBe('form-error');
    }
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toMatch(/not right/);
    expect(messages[0]).not.toMatch(/bob|nobody|exist/i);
    expect(unexpected(problems)).toEqual([]);
    await context.close();

    // Nothing identifying in the logs of these requests.
    const logs = host.logs.join('\n');
    expect(logs).not.toMatch(/wrong-password|nobody|no-such-org/);
    expect(logs).not.toContain(authorization.user_code);
    expect(logs).toMatch(/device-page-sign-in .*outcome=failed/);
  });

  it('enforces CSRF, sends the strict CSP, and keeps the ticket from acting as a token or outliving 2 minutes', async () => {
    const { authorization } = await desktopAuthorization();
    const get = await fetch(`${host.url}/device?user_code=${authorization.user_code}`);
    expect(get.status).toBe(200);
    const csp = get.headers.get('content-security-policy');
    const page = await get.text();
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(csp).toBe(`default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
    expect(get.headers.get('cache-control')).toBe('no-store');
    expect(page).not.toMatch(/<script|<img|<link|https?:\/\/(?!localhost)/i);
    const setCookie = get.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^roger_device_csrf=[A-Za-z0-9_-]{43}; Path=\/device; HttpOnly; SameSite=Strict$/); // http issuer: no Secure
    const token = /roger_device_csrf=([^;]+)/.exec(setCookie)![1]!;
    expect(page).toContain(`name="csrf" value="${token}"`);

    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    const post = (path: string, fields: Record<string, string>, cookie?: string) =>
      fetch(`${host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
        body: form(fields),
        redirect: 'manual',
      });
    const signInFields = { user_code: authorization.user_code, tenant: 'contoso', username: 'bob', password: bob.password };

    const noCookie = await post('/device', { ...signInFields, csrf: token });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(noCookie.headers.get('content-security-policy')).toBe(csp);
    expect(await noCookie.text()).toContain('Please start again');
    const mismatch = await post(
      '/device',
      { ...signInFields, csrf: token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) },
      `roger_device_csrf=${token}`,
    );
    expect(mismatch.status).toBe(403);
    expect((await post('/device', signInFields, `roger_device_csrf=${token}`)).status).toBe(403);

    const signedIn = await post('/device', { ...signInFields, csrf: token }, `roger_device_csrf=${token}`);
    expect(signedIn.status).toBe(200);
    const confirmation = await signedIn.text();
    const ticket = /name="ticket" value="([^"]+)"/.exec(confirmation)![1]!;
    expect(decodeProtectedHeader(ticket)).toMatchObject({ alg: 'ES256', typ: 'roger-device-page+jwt' });

    // The ticket is no access token.
    const asBearer = await api(host, ticket, 'GET', '/api/me');
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('invalid_token');

    // A decision with another browser's CSRF cookie does not accept this browser's ticket.
    const otherToken = /roger_device_csrf=([^;]+)/.exec((await fetch(`${host.url}/device`)).headers.get('set-cookie')!)![1]!;
    const otherBrowser = await post(
      '/device/decision',
      { csrf: otherToken, ticket, decision: 'approve' },
      `roger_device_csrf=${otherToken}`,
    );
    expect(otherBrowser.status).toBe(403);
    // Neither is a decision without the CSRF pair.
    expect((await post('/device/decision', { csrf: token, ticket, decision: 'approve' })).status).toBe(403);

    // After 2 minutes the ticket is refused: the sign-in form again, the code kept.
    host.advanceClock(180);
    const late = await post('/device/decision', { csrf: token, ticket, decision: 'approve' }, `roger_device_csrf=${token}`);
    expect(late.status).toBe(403);
    const again = await late.text();
    expect(again).toContain('<h1>Sign in to connect a device</h1>');
    expect(again).toContain('lasts 2 minutes');
    expect(again).toContain(`value="${authorization.user_code}"`);
    expect(late.headers.get('content-security-policy')).toBe(csp);

    // The code itself is still pending: the ticket expired, not the request.
    const bobToken = (await mobileSignIn(host, 'contoso', bob)).access_token;
    expect((await api(host, bobToken, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(200);
  });

  it('enrolls a printer (admin, with name and location) and shows it on a session code', async () => {
    const { context, page, problems } = await openPage();

    // Enrollment: a plain user sees no such code; the admin names the printer.
    const emb = await oauthClient(host, 'roger-emb');
    const enrollment = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
    const enrolled = oauth.pollDeviceAuthorizationGrant(emb, enrollment);
    await page.goto(typedCodeUrl(enrollment));
    expect((await signInOnPage(page, bob)).status()).toBe(404);
    expect(await page.textContent('[role="alert"]')).toContain('needs an administrator');

    await page.goto(typedCodeUrl(enrollment));
    expect((await signInOnPage(page, alice)).status()).toBe(200);
    expect(await page.textContent('main')).toContain('A new printer is asking for access');
    const noName = await navigation(page, () => page.press('button[value="approve"]', 'Enter'));
    expect(noName.status()).toBe(400);
    expect(await page.getAttribute('#name', 'aria-describedby')).toBe('name-hint form-error');
    const enrollmentForm = await checkAccessibility(page, 'enrollment with error');
    expect(enrollmentForm.interactive).toEqual(['name', 'location', 'decision=approve', 'decision=deny']);
    await page.fill('#name', 'MFP 3rd floor');
    await page.fill('#location', 'Building A, 3rd floor');
    expect((await navigation(page, () => page.press('button[value="approve"]', 'Enter'))).status()).toBe(200);
    expect(await page.textContent('main')).toContain('The printer MFP 3rd floor is now connected');
    const printer = await enrolled;

    // A session at that printer: the page says which printer and where.
    const panel = await oauthClient(host, 'roger-emb', () => printer.access_token);
    const session = await oauth.initiateDeviceAuthorization(panel, { scope: 'session' });
    expect(session.expires_in).toBe(120);
    const started = oauth.pollDeviceAuthorizationGrant(panel, session);
    await page.goto(typedCodeUrl(session));
    expect((await signInOnPage(page, bob)).status()).toBe(200);
    const asking = await page.textContent('main');
    expect(asking).toContain('The printer MFP 3rd floor (Building A, 3rd floor) is asking for access');
    expect((await navigation(page, () => page.press('button[value="approve"]', 'Enter'))).status()).toBe(200);
    expect(await page.textContent('main')).toContain('Your session at the printer MFP 3rd floor (Building A, 3rd floor) has started');
    const sessionToken = (await started).access_token;
    expect((await api(host, sessionToken, 'GET', '/api/me')).body).toMatchObject({ kind: 'session', user: { id: bobId } });
    expect(unexpected(problems)).toEqual([]);
    await context.close();
  });

  it('refuses a printer session where the tenant turned QR sessions off (policy allowedLoginMethods)', async () => {
    const carol: Person = { email: 'carol@fabrikam.test', username: 'carol', fullName: 'Carol Admin', password: 'carol-password-1' };
    await createTenant(host, 'fabrikam', carol, { allowedLoginMethods: ['pin'] });
    const printer = await enrollPrinter(host, (await mobileSignIn(host, 'fabrikam', carol)).access_token, 'PIN-only printer');
    const panel = await oauthClient(host, 'roger-emb', () => printer.access);
    const session = await oauth.initiateDeviceAuthorization(panel, { scope: 'session' });

    const { context, page, problems } = await openPage();
    await page.goto(typedCodeUrl(session));
    expect((await signInOnPage(page, carol, { tenant: 'fabrikam' })).status()).toBe(403);
    expect(await page.textContent('[role="alert"]')).toContain('turned off');
    expect(await page.locator('button').count()).toBe(0);
    expect(unexpected(problems)).toEqual([]);
    await context.close();
  });
});

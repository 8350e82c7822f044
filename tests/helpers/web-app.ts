import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import axeCore from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { individual, uniqueName } from './fixtures.js';
import { createTenant, mobileSignIn, oauthEnv, type Person } from './roger.js';
import { startTestHost, type TestHost } from './test-host.js';

/**
 * Driving the web app (web/, docs/web-app.md) in Debian's Chromium, as the browser tests under
 * tests/browser/web-*.test.ts do: the built app from web/dist served by the test host under /app/,
 * sign-in through our own sign-in page by keyboard, axe-core on each screen, and screenshots at
 * phone and desktop size in test-results/web/.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** The built app; ROGER_WEB_ROOT points elsewhere when several people build the app at once. */
export const WEB_ROOT = process.env.ROGER_WEB_ROOT || fileURLToPath(new URL('../../web/dist', import.meta.url));
export const SHOTS = fileURLToPath(new URL('../../test-results/web/', import.meta.url));
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1440, height: 900 };

export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}

/** A test host serving the built app, Chromium, and a new tenant with its first admin and that admin's API token. */
export interface AdminApp {
  host: TestHost;
  browser: Browser;
  tenant: string;
  admin: Person;
  token: string;
}

/**
 * The set-up of the admin browser tests: the test host with the app and Chromium side by side, a
 * tenant named `fabrikam-…` whose first admin is `person` (made unique to this run), signed in
 * over the API for checking each action's effect. Close `browser` and `host` after the tests.
 */
export async function startAdminApp(person: Person): Promise<AdminApp> {
  const [host, browser] = await Promise.all([startTestHost({ env: oauthEnv, webRoot: WEB_ROOT }), launchChromium()]);
  const tenant = uniqueName('fabrikam');
  const admin = individual(person);
  await createTenant(host, tenant, admin);
  const token = (await mobileSignIn(host, tenant, admin)).access_token;
  return { host, browser, tenant, admin, token };
}

/** Goes to a path of the app in place, as a link would: a reload would drop the tokens held in memory. */
export const goInApp = (page: Page, path: string) =>
  page.evaluate(`history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`);

/** Tab (at most `most` times) until the focused element's accessible label or text is `label` (keyboard only). */
export async function tabTo(page: Page, label: string, most = 40): Promise<void> {
  const focused = () =>
    page.evaluate("document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim() ?? ''");
  for (let i = 0; i < most && (await focused()) !== label; i++) await page.keyboard.press('Tab');
  expect(await focused()).toBe(label);
}

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions, to be empty at the end of a test. */
  problems: string[];
}

/**
 * A fresh browser profile at phone size in `locale` (e.g. `en-GB`, `fr-FR`), collecting console errors.
 * `ignoreHTTPSErrors`: for pages of the local Microsoft stand-in's sign-in listener, whose certificate is self-signed at each start.
 */
export async function openApp(browser: Browser, locale: string, viewport = PHONE, ignoreHTTPSErrors = false): Promise<AppPage> {
  // Reduced motion: Fluent then skips its drawer and dialog animations, so a screenshot taken
  // right after a resize shows the page at rest rather than mid-slide.
  const context = await browser.newContext({ viewport, locale, reducedMotion: 'reduce', ignoreHTTPSErrors });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return { context, page, problems };
}

/** The sign-in page, keyboard only: the organisation, then username and password; back in the app. */
export async function signInWithKeyboard(page: Page, tenant: string, person: Pick<Person, 'username' | 'password'>): Promise<void> {
  await page.waitForURL(/\/oauth\/authorize\?/);
  await page.keyboard.press('Tab');
  await page.keyboard.type(tenant);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await page.keyboard.press('Tab');
  await page.keyboard.type(person.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(person.password);
  await Promise.all([
    page.waitForURL((url) => url.pathname.startsWith('/app/') && url.pathname !== '/app/auth/callback'),
    page.keyboard.press('Enter'),
  ]);
}

/**
 * axe-core's serious and critical violations on the page as it is now, as readable lines, every
 * rule included (the best-practice ones too: a dialog without a name is serious). Legacy mode runs
 * axe.run in the page itself: the app has no frames, and the default mode opens a blank page and
 * injects axe twice per run, which doubled each check's time.
 * axe-core is put in each document once, not at every check: @axe-core/playwright evaluates its
 * 570 kB source twice per analyze() (0.3–0.5 s each on this machine, where the run itself takes
 * 0.1–0.2 s), and a screen is checked several times per document (both languages, each dialog).
 * Only violations are collected (`resultTypes`): the passes and incomplete results nobody reads
 * are left as counts; which rules run, and what each finds, is unchanged.
 * Fluent's focus manager (Tabster) puts hidden, focusable <i data-tabster-dummy> sentinels at the
 * edges of focus groups; they pass focus on at once and are never read out, so axe leaves them out.
 */
export async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate("typeof window.axe?.run === 'function'"))) await page.evaluate(axeCore.source);
  const { violations } = await new AxeBuilder({ page, axeSource: ALREADY_IN_PAGE })
    .exclude('[data-tabster-dummy]')
    .options({ resultTypes: ['violations'] })
    .setLegacyMode()
    .analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
/** The source @axe-core/playwright evaluates before each run: nothing, as axe() put axe-core in the page. */
const ALREADY_IN_PAGE = ';';

/**
 * Full-page screenshots at phone and desktop size: test-results/web/<name>-390x844.png and -1440x900.png
 * (`phoneOnly`: the phone size alone).
 */
export async function shots(page: Page, name: string, phoneOnly = false): Promise<void> {
  const before = page.viewportSize() ?? PHONE;
  const sizes = [
    ['390x844', PHONE],
    ['1440x900', DESKTOP],
  ] as const;
  for (const [size, viewport] of phoneOnly ? sizes.slice(0, 1) : sizes) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: `${SHOTS}${name}-${size}.png`, fullPage: true });
  }
  await page.setViewportSize(before);
}

/** The language switch in the header, by keyboard: focus, open, pick, confirm. */
export async function switchLanguage(page: Page, to: 'en' | 'fr'): Promise<void> {
  const current = await page.evaluate('document.documentElement.lang');
  if (current === to) return;
  await page.getByRole('combobox', { name: current === 'fr' ? 'Langue' : 'Language' }).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press(to === 'fr' ? 'ArrowDown' : 'ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForFunction(`document.documentElement.lang === '${to}'`);
}

/**
 * The screen as it is now, in both languages: axe finds nothing serious or critical, and
 * screenshots are written as `<name>-en` at both sizes and `<name>-fr` at phone size (the longer
 * French words overflow there first; the desktop layout is the same in both languages). Returns to the language it
 * started in. `ready(language)` waits until the screen has redrawn in that language.
 */
export async function checkScreen(page: Page, name: string, ready: (language: 'en' | 'fr') => Promise<unknown>): Promise<string[]> {
  const start = (await page.evaluate('document.documentElement.lang')) as 'en' | 'fr';
  const found: string[] = [];
  for (const language of start === 'fr' ? (['fr', 'en'] as const) : (['en', 'fr'] as const)) {
    await switchLanguage(page, language);
    await ready(language);
    found.push(...(await axe(page)).map((line) => `${name} (${language}): ${line}`));
    await shots(page, `${name}-${language}`, language === 'fr');
  }
  await switchLanguage(page, start);
  return found;
}

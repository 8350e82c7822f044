import { randomBytes } from 'node:crypto';
import type { ServiceBusReceiver } from '@azure/service-bus';
import * as oauth from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { enrolledPrinter, individual, uniqueName } from '../helpers/fixtures.js';
import { consentToOneDrive, loadCallback, standInOf } from '../helpers/onedrive.js';
import { amqpCredentials, printerClient, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { WEB_ROOT, launchChromium, openApp, signInWithKeyboard, tabTo } from '../helpers/web-app.js';

/**
 * The user story, one of the web app's two acceptance tests (docs/web-app.md#acceptance-tests),
 * in Debian's Chromium against the test host and its stand-ins, with no mocks of our API: a user
 * whose OneDrive is connected signs in, prints a 1 MiB file (the progress bar seen moving), sees it
 * queued in My jobs; a printer enrolled through the API, listening on its own subscription with
 * only its SAS token, asks for a session code; the user opens its QR code's address, sees the
 * printer and the queued file and approves by keyboard; the printer's poll gets the session token,
 * the release arrives over AMQP with a download URL that serves the very bytes uploaded, the
 * printer reports it printed, and My jobs shows Printed by itself. No console errors.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const una: Person = { email: 'una@contoso.test', username: 'una', fullName: 'Una User', password: 'una-password-123' };
const PRINTER = { name: 'MFP 2nd floor', location: 'Building B, room 204' };

describe('the user story: print a file, release it at a printer by its QR code, see it printed', { timeout: 90_000 }, () => {
  let host: TestHost;
  let browser: Browser;
  let ms: LocalMicrosoft;
  let tenant: string;
  let user: Person;
  let userToken: string;
  let printer: EnrolledPrinter;
  let receiver: ServiceBusReceiver;
  let closePrinter: () => Promise<void> = async () => undefined;

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
    const admin = individual(alice);
    user = individual(una);
    await createTenant(host, tenant, admin);
    const adminToken = (await mobileSignIn(host, tenant, admin)).access_token;
    expect((await api(host, adminToken, 'POST', '/api/users', user)).status).toBe(201);
    userToken = (await mobileSignIn(host, tenant, user)).access_token;
    // The user's OneDrive is connected (Microsoft's consent page is the stand-in's).
    const { callbackUrl } = await consentToOneDrive(host, ms, userToken, `${user.username}@contoso.example`);
    expect((await loadCallback(callbackUrl)).status).toBe(200);
    expect((await api(host, userToken, 'GET', '/api/me')).body.onedrive.status).toBe('connected');

    // The printer, enrolled through the API, listens on its own subscription with only the SAS token the API gave it.
    printer = await enrolledPrinter(host, adminToken, PRINTER.name, PRINTER.location);
    const credentials = await amqpCredentials(host, printer.access);
    const client = printerClient(credentials);
    const [topic, , subscription] = credentials.entityPath.split('/');
    receiver = client.createReceiver(topic!, subscription!);
    closePrinter = async () => {
      await receiver.close();
      await client.close();
    };
  });
  afterAll(async () => {
    await closePrinter();
    await browser?.close();
    await host?.close();
  });

  it('uploads 1 MiB with moving progress, approves the printer’s QR code by keyboard, and sees the job printed', async () => {
    const { context, page, problems } = await openApp(browser, 'en-GB');
    page.setDefaultTimeout(15_000);
    await page.goto(`${host.url}/app/print`);
    await signInWithKeyboard(page, tenant, user);

    // Print a file: a 1 MiB document chosen through the file chooser, sent by keyboard.
    await page.getByRole('button', { name: 'Print' }).waitFor();
    const bytes = randomBytes(1024 * 1024);
    await page.locator('input[type=file]').setInputFiles({ name: 'Team handbook.pdf', mimeType: 'application/pdf', buffer: bytes });
    // Every value the progress bar shows, as a percentage, recorded in the page as it changes.
    await page.evaluate(`(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        const bar = document.querySelector('[role=progressbar]');
        const now = bar?.getAttribute('aria-valuenow');
        const max = bar?.getAttribute('aria-valuemax');
        if (!now || !max) return;
        const percent = (100 * Number(now)) / Number(max);
        if (window.progressSeen.at(-1) !== percent) window.progressSeen.push(percent);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    })()`);
    await tabTo(page, 'Print');
    await page.keyboard.press('Enter');
    await page.getByText('“Team handbook.pdf” is queued.', { exact: false }).waitFor({ timeout: 20_000 });
    const seen = (await page.evaluate('window.progressSeen')) as number[];
    const moving = new Set(seen.filter((percent) => percent > 0 && percent < 100));
    expect(moving.size, seen.join(' ')).toBeGreaterThanOrEqual(2);
    expect(ms.fileBytes(`${user.username}@contoso.example`, 'Print/Team handbook.pdf')?.equals(bytes)).toBe(true);

    // My jobs: queued.
    await tabTo(page, 'See my jobs');
    await page.keyboard.press('Enter');
    const row = page.getByRole('row', { name: /Team handbook\.pdf/ });
    await row.getByText('Queued').waitFor();
    const [job] = (await api(host, userToken, 'GET', '/api/jobs')).body.items as { id: string; state: string; size: number }[];
    expect(job).toMatchObject({ state: 'queued', size: bytes.length });

    // The printer asks for a session code (RFC 8628, with its own token) and shows it as a QR code.
    const panel = await oauthClient(host, 'roger-emb', () => printer.access);
    const authorization = await oauth.initiateDeviceAuthorization(panel, { scope: 'session' });
    expect(authorization.verification_uri_complete).toBe(`${host.url}/app/approve?code=${authorization.user_code}`);
    const polling = oauth.pollDeviceAuthorizationGrant(panel, authorization);
    polling.catch(() => undefined); // awaited below; a refusal fails the test there, not as an unhandled rejection

    // The phone's camera opens the QR code's address in a new tab: sign in there, then the code.
    const scanned = await context.newPage();
    const scannedProblems: string[] = [];
    scanned.on('console', (message) => {
      if (message.type() === 'error') scannedProblems.push(`console error: ${message.text()}`);
    });
    scanned.on('pageerror', (error) => scannedProblems.push(`pageerror: ${error.message}`));
    scanned.setDefaultTimeout(15_000);
    await scanned.goto(authorization.verification_uri_complete!);
    await signInWithKeyboard(scanned, tenant, user);
    await scanned
      .getByRole('heading', { name: `The printer ${PRINTER.name} (${PRINTER.location}) asks to start a session as you` })
      .waitFor();
    expect(await scanned.getByRole('list', { name: '1 queued job' }).textContent()).toBe('Team handbook.pdf');
    await tabTo(scanned, 'Approve');
    await scanned.keyboard.press('Enter');
    await scanned.getByRole('status').getByText(`Your session at ${PRINTER.name} (${PRINTER.location}) has started`).waitFor();

    // The printer's poll gets the session token; the release arrives over AMQP and names this job.
    const session = (await polling).access_token;
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    expect(message, 'no release arrived over AMQP').toBeDefined();
    await receiver.completeMessage(message!);
    expect(message!.body).toMatchObject({
      type: 'release',
      jobId: job!.id,
      fileName: 'Team handbook.pdf',
      downloadUrl: expect.any(String),
    });
    const download = await fetch(message!.body.downloadUrl as string);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);

    // Printed, reported with the session token; My jobs, read again every 5 s, shows it without a reload.
    const printed = await api(host, session, 'POST', `/api/jobs/${job!.id}/printed`);
    expect(printed.status).toBe(200);
    expect(printed.body.state).toBe('printed');
    await page.bringToFront();
    await row.getByText('Printed').waitFor({ timeout: 12_000 });
    expect((await api(host, userToken, 'GET', `/api/jobs/${job!.id}`)).body.state).toBe('printed');

    expect([...problems, ...scannedProblems]).toEqual([]);
    await context.close();
  });
});

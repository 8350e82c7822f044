import { randomBytes, randomUUID } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { approvedSession } from '../../../tests/helpers/fixtures.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { api, tokenRequest } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { Ledger } from '../src/ledger.js';
import {
  brokerOf,
  countOn,
  jobState,
  northwind,
  queuedJob,
  releaseMessage,
  sendAsApp,
  sessionIdOf,
  startReceiver,
  topicOf,
  type Running,
} from './receive-world.js';

/**
 * docs/clients.md#receiving-a-release: runReceiver against the real API, the Graph stand-in and the
 * host's AMQP broker, through the real Service Bus SDK with only the printer's SAS token.
 */
describe('roger-printer receives releases', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;
  let running: Running[] = [];
  const receive = async (...args: Parameters<typeof startReceiver>) => {
    const receiver = await startReceiver(...args);
    running.push(receiver);
    return receiver;
  };
  const printedLine = (jobId: string) => (lines: string[]) => lines.some((line) => line.startsWith(`printed ${jobId} → `));

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
  });
  afterEach(async () => {
    for (const receiver of running) expect(await receiver.stop()).toBeUndefined();
    running = [];
  });
  afterAll(async () => {
    await host?.close();
  });

  it('a released job is written with the bytes of the original, named by time and job, and reported printed', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const document = multiPagePdf(3, 'Quarterly report');
    const jobId = await queuedJob(host, userToken, 'Quarterly report.pdf', document);
    const receiver = await receive(host.url, printer);

    // The approval releases at once; the panel learns the session's token a moment later (its poll).
    const session = await approvedSession(host, printer, userToken);
    expect(session.release).toMatchObject({ released: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    receiver.sessions.add(session.token);

    await receiver.until(printedLine(jobId));
    const [file, ...others] = await receiver.files();
    expect(others).toEqual([]);
    expect(file).toMatch(new RegExp(`^\\d{8}-\\d{6}-${jobId}\\.pdf$`));
    expect((await receiver.read(file!)).equals(document)).toBe(true);
    expect((await stat(receiver.ledgerPath)).mode & 0o777).toBe(0o600);
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
    // Reported with the session's token, and what was printed: 3 pages, duplex, mono, A4 (the defaults).
    expect((await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body.printed).toEqual({
      pages: 3,
      sheets: 2,
      colorPages: 0,
      duplex: true,
      paperSize: 'A4',
    });
    expect(receiver.lines.join('\n')).not.toMatch(/not reported|eyJ/);
  });

  it('the session’s token gone (never brought by the panel, or lapsed): the printer reports what it printed with its device token and the owner’s id', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const options = { copies: 2, duplex: true, color: true, paperSize: 'A3' };
    const jobId = await queuedJob(host, userToken, 'Poster.pdf', multiPagePdf(3, 'Poster'), options);
    const receiver = await receive(host.url, printer);
    // Approved at the printer, but the panel never hands the agent this session's token.
    expect((await approvedSession(host, printer, userToken)).release).toMatchObject({ released: 1 });
    // What was printed: the PDF's pages times the copies, sheets halved (rounded up) per copy, all in colour, on A3.
    await receiver.until(printedLine(jobId));
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
    const job = (await api(host, userToken, 'GET', `/api/jobs/${jobId}`)).body;
    expect(job.printed).toEqual({ pages: 6, sheets: 4, colorPages: 6, duplex: true, paperSize: 'A3' });
    await expect.poll(async () => (await Ledger.open(receiver.ledgerPath)).get(jobId)?.reported).toBe(true);
    expect(receiver.lines.join('\n')).not.toMatch(/not reported|eyJ/);
  });

  it('never twice: the same job released again by a later session (a send that went out unrecorded) is skipped, even after a restart', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const document = multiPagePdf(1, 'Once only');
    const jobId = await queuedJob(host, userToken, 'Once only.pdf', document);
    const first = await receive(host.url, printer);
    first.sessions.add((await approvedSession(host, printer, userToken)).token);
    await first.until(printedLine(jobId));
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
    await first.stop();

    // The agent starts again with the same ledger and folder; the job arrives once more, under
    // another session's message id, so the topic's duplicate detection cannot drop it.
    const again = await receive(host.url, printer, { outputDir: first.outputDir, ledgerPath: first.ledgerPath });
    const downloadUrl = `${ms.url}/download/any`; // never fetched
    await sendAsApp(host, [releaseMessage({ jobId, sessionId: randomUUID(), printerId: printer.deviceId, downloadUrl })]);
    await again.until((lines) => lines.includes(`skipped ${jobId}: already printed`));
    expect(await again.files()).toHaveLength(1);
    await expect.poll(async () => countOn(await brokerOf(host), printer.deviceId)).toEqual({ active: 0, deadLetter: 0 });
  });

  it('printed, recorded, but the message was not completed (the agent stopped): it comes back, is not printed again, and is reported printed now', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const jobId = await queuedJob(host, userToken, 'Interrupted.pdf', multiPagePdf(1));
    const session = await approvedSession(host, printer, userToken);
    // The state an agent leaves when it stops between writing the ledger and completing the message.
    const ledgerDir = `${tmpdir()}/roger-ledger-${randomUUID()}`;
    const ledger = await Ledger.open(`${ledgerDir}/ledger.json`);
    await ledger.add({ jobId, sessionId: sessionIdOf(session.token), printedAt: new Date().toISOString(), reported: false });

    const receiver = await receive(host.url, printer, { ledgerPath: `${ledgerDir}/ledger.json` });
    receiver.sessions.add(session.token);
    await receiver.until((lines) => lines.includes(`skipped ${jobId}: already printed`));
    expect(await receiver.files()).toEqual([]);
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
    // Marked reported in the ledger just after the API answered.
    await expect.poll(async () => (await Ledger.open(`${ledgerDir}/ledger.json`)).get(jobId)?.reported).toBe(true);
  });

  it('the ledger is bounded (the newest ids kept), persisted whole, and readable by its user only', async () => {
    const path = `${tmpdir()}/roger-ledger-${randomUUID()}/ledger.json`;
    const ledger = await Ledger.open(path, 3);
    for (const jobId of ['a', 'b', 'c', 'd', 'e'])
      await ledger.add({ jobId, sessionId: 's', printedAt: new Date().toISOString(), reported: true });
    const reopened = await Ledger.open(path, 3);
    expect(['a', 'b', 'c', 'd', 'e'].map((id) => Boolean(reopened.get(id)))).toEqual([false, false, true, true, true]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('a message for another printer (a subscription rule widened by mistake) is dead-lettered, not printed', async () => {
    const { printer } = await northwind(host, ms);
    const broker = await brokerOf(host);
    // The API's filter lets only this printer's messages in; recreated without it, as a
    // hand-edited rule in Azure could be.
    const topic = topicOf(broker, printer.deviceId);
    broker.deleteSubscription(topic, printer.deviceId);
    broker.createSubscription(topic, printer.deviceId, { lockDurationMs: 60_000, maxDeliveryCount: 10 });
    const receiver = await receive(host.url, printer);
    const jobId = randomUUID();
    await sendAsApp(
      host,
      [releaseMessage({ jobId, sessionId: randomUUID(), printerId: randomUUID(), downloadUrl: `${ms.url}/download/x` })],
      topic,
    );
    await receiver.until((lines) => lines.includes('skipped message: for another printer'));
    expect(await receiver.files()).toEqual([]);
    expect(receiver.lines.join('\n')).not.toContain(jobId);
    await expect.poll(() => countOn(broker, printer.deviceId)).toEqual({ active: 0, deadLetter: 1 });
  });

  it('a corrupt document (a .pdf that is not a PDF) is reported failed and nothing is written; released again, it fails again', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const jobId = await queuedJob(host, userToken, 'Scrambled.pdf', randomBytes(4096));
    const receiver = await receive(host.url, printer);
    const session = await approvedSession(host, printer, userToken);
    receiver.sessions.add(session.token);
    await receiver.until((lines) => lines.includes(`failed ${jobId}: document-unreadable`));
    expect(await receiver.files()).toEqual([]);
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('failed');
    await expect.poll(async () => countOn(await brokerOf(host), printer.deviceId)).toEqual({ active: 0, deadLetter: 0 });

    // A failed job is not printed by itself; a release of it goes out once more, and fails once more.
    expect((await api(host, session.token, 'POST', `/api/jobs/${jobId}/release`)).status).toBe(200);
    await receiver.until((lines) => lines.filter((line) => line === `failed ${jobId}: document-unreadable`).length === 2);
    expect(await receiver.files()).toEqual([]);
  });

  it('an output folder that cannot be written: the job is reported failed (printer-error), not left to be dead-lettered', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const jobId = await queuedJob(host, userToken, 'Nowhere to go.pdf', multiPagePdf(1));
    // A file where the folder should be: no user, root included, can write into it.
    const notAFolder = `${tmpdir()}/roger-output-${randomUUID()}`;
    await writeFile(notAFolder, 'a file, not a folder');
    const receiver = await receive(host.url, printer, { outputDir: notAFolder });
    receiver.sessions.add((await approvedSession(host, printer, userToken)).token);
    await receiver.until((lines) => lines.some((line) => line.startsWith(`failed ${jobId}: printer-error (cannot write the output: `)));
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('failed');
    await expect.poll(async () => countOn(await brokerOf(host), printer.deviceId)).toEqual({ active: 0, deadLetter: 0 });
    expect(receiver.lines.filter((line) => line.startsWith('connection lost'))).toEqual([]);
  });

  it('an expired download URL: reported failed, nothing written; released again with a fresh URL, it prints exactly once', async () => {
    const { userToken: earlyToken, userRefresh, printer } = await northwind(host, ms);
    const document = multiPagePdf(2, 'Late pickup');
    const jobId = await queuedJob(host, earlyToken, 'Late pickup.pdf', document);
    const first = await approvedSession(host, printer, earlyToken);
    // An hour passes on the API's (and OneDrive's) clock before the printer picks the message
    // up: its download URL has expired. The printer's device token refreshes, and the person
    // signs in at the panel again; that session (same person, same printer) reports for the first.
    host.advanceClock(3700);
    const userToken = (await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: userRefresh }))
      .body.access_token as string;
    const refreshed = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: printer.refresh });
    expect(refreshed.status).toBe(200);
    Object.assign(printer, { access: refreshed.body.access_token, refresh: refreshed.body.refresh_token });
    const second = await approvedSession(host, printer, userToken);

    const receiver = await receive(host.url, printer);
    receiver.sessions.remember(sessionIdOf(first.token), second.token, new Date(Date.now() + 600_000));
    await receiver.until((lines) => lines.includes(`failed ${jobId}: download-failed`));
    expect(await receiver.files()).toEqual([]);
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('failed');

    receiver.sessions.add(second.token);
    expect((await api(host, second.token, 'POST', `/api/jobs/${jobId}/release`)).status).toBe(200);
    await receiver.until(printedLine(jobId));
    const files = await receiver.files();
    expect(files).toHaveLength(1);
    expect((await receiver.read(files[0]!)).equals(document)).toBe(true);
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
    expect(receiver.lines.filter((line) => line.includes(jobId))).toEqual([
      `failed ${jobId}: download-failed`,
      expect.stringMatching(/^printed /),
    ]);
  });
});

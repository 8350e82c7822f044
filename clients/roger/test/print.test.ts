import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { finished, FRAGMENT, SMALL_RANGES, signedInPrinter } from './print-world.js';

/**
 * `roger print` (docs/clients.md#printing), the real program against the real API and the
 * Graph stand-in: what it refuses before sending anything, and a document's way straight to the
 * user's OneDrive and on to the queue, through the faults OneDrive has for a moment.
 */

describe('roger print', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
  });
  afterAll(async () => {
    await host?.close();
  });

  it('prints a multi-page PDF: straight to OneDrive in ranges, queued with its options; the drive has exactly its bytes, the API none of them', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(4000, 'Quarterly report');
    expect(document.length).toBeGreaterThan(3 * FRAGMENT);
    await person.file('Quarterly report.pdf', document);
    const apiBytesBefore = host.traffic.requestBodyBytes;
    const uploadedBefore = ms.stats.uploadedBytes;

    const run = await finished(
      person.roger(['print', '--copies', '2', '--no-duplex', '--color', '--paper', 'letter', 'Quarterly report.pdf'], SMALL_RANGES),
    );

    expect(run.stderr).not.toMatch(/roger:/);
    expect(run.code).toBe(0);
    const [job] = await person.jobs();
    expect(run.stdout).toBe(`queued ${job!.id} Quarterly report.pdf\n`);
    expect(job).toMatchObject({
      fileName: 'Quarterly report.pdf',
      size: document.length,
      state: 'queued',
      options: { copies: 2, duplex: false, color: true, paperSize: 'Letter' },
    });
    expect(ms.fileBytes(person.upn, 'Print/Quarterly report.pdf')!.equals(document)).toBe(true);
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(document.length);
    // Progress on stderr, not a terminal: plain percentage lines up to 100%.
    expect(run.stderr.split('\n').filter(Boolean)).toEqual(
      expect.arrayContaining(['Quarterly report.pdf: 0%', 'Quarterly report.pdf: 100%']),
    );
    expect(run.stderr.match(/: \d+%/g)!.length).toBeGreaterThanOrEqual(4);
    // The document never passed through Roger: only small JSON bodies reached the API.
    expect(host.traffic.requestBodyBytes - apiBytesBefore).toBeLessThan(2048);
    // Nothing left to resume, in a file only its user may read.
    const uploads = join(person.configDir, 'uploads.json');
    expect((await stat(uploads)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(uploads, 'utf8'))).toEqual({});
  });

  it('prints several files in one command, each its own job, with the defaults when no option is given', async () => {
    const person = await signedInPrinter(host, ms);
    const [a, b] = [multiPagePdf(3, 'Agenda'), multiPagePdf(2, 'Minutes')];
    await person.file('agenda.pdf', a);
    await person.file('minutes.pdf', b);
    const run = await finished(person.roger(['print', 'agenda.pdf', 'minutes.pdf']));
    expect(run.code, run.stderr).toBe(0);
    const jobs = await person.jobs();
    expect(run.stdout).toBe(`queued ${jobs[1]!.id} agenda.pdf\nqueued ${jobs[0]!.id} minutes.pdf\n`);
    expect(jobs.map((job) => [job.fileName, job.state, job.options])).toEqual([
      ['minutes.pdf', 'queued', { copies: 1, duplex: true, color: false, paperSize: 'A4' }],
      ['agenda.pdf', 'queued', { copies: 1, duplex: true, color: false, paperSize: 'A4' }],
    ]);
    expect(ms.fileBytes(person.upn, 'Print/agenda.pdf')!.equals(a)).toBe(true);
    expect(ms.fileBytes(person.upn, 'Print/minutes.pdf')!.equals(b)).toBe(true);
  });

  it('refuses, one line each, what it cannot print — by its bytes, not its name; empty; over 2 GiB — and sends nothing at all', async () => {
    // Nothing reaches OneDrive: no need to connect it.
    const person = await signedInPrinter(host, ms, { connected: false });
    await person.file('fine.pdf', multiPagePdf(1));
    await person.file('holiday.pdf', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')); // a PNG named .pdf
    await person.file('notes.txt', Buffer.from('just some words\n'));
    await person.file('empty.pdf', Buffer.alloc(0));
    // Sparse: 2 GiB and one byte without writing them.
    await writeFile(join(person.folder, 'huge.pdf'), '%PDF-1.7\n');
    await truncate(join(person.folder, 'huge.pdf'), 2 * 1024 ** 3 + 1);
    const requestsBefore = host.traffic.requests;

    const run = await finished(
      person.roger(['print', 'fine.pdf', 'holiday.pdf', 'notes.txt', 'empty.pdf', 'huge.pdf', 'missing.pdf'], SMALL_RANGES),
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      'roger: holiday.pdf: a PNG image; roger prints PDF files only (save or export it as PDF first)',
      'roger: notes.txt: not a PDF file; roger prints PDF files only (save or export it as PDF first)',
      'roger: empty.pdf: the file is empty',
      'roger: huge.pdf: 2.1 GB (2147483649 bytes): a print job may have at most 2 GiB (2147483648 bytes)',
      'roger: missing.pdf: no such file (nothing was sent)',
    ]);
    expect(host.traffic.requests).toBe(requestsBefore);
    expect(await person.jobs()).toEqual([]);
  });

  it('refuses options out of range before sending anything', async () => {
    const person = await signedInPrinter(host, ms, { connected: false });
    await person.file('fine.pdf', multiPagePdf(1));
    const requestsBefore = host.traffic.requests;
    const cases = [
      [['--copies', '0'], /copies: a whole number from 1 to 999/],
      [['--copies', '2.5'], /copies: a whole number from 1 to 999/],
      [['--paper', 'B5'], /paper: one of A4, A3, A5, Letter, Legal/],
    ] as const;
    const runs = await Promise.all(cases.map(([flags]) => finished(person.roger(['print', ...flags, 'fine.pdf']))));
    for (const [index, [flags, complaint]] of cases.entries()) {
      expect(runs[index]!.code, flags.join(' ')).toBe(1);
      expect(runs[index]!.stderr).toMatch(complaint);
    }
    expect(host.traffic.requests).toBe(requestsBefore);
    expect(await person.jobs()).toEqual([]);
  });

  it('without OneDrive connected: the job is cancelled, and roger says where to connect it', async () => {
    const person = await signedInPrinter(host, ms, { connected: false });
    await person.file('fine.pdf', multiPagePdf(2));
    const run = await finished(person.roger(['print', 'fine.pdf']));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `roger: fine.pdf: your OneDrive is not connected, so there is nowhere to upload to: connect it in the Roger web app's Settings (${host.url}/app/settings), then print again\n`,
    );
    expect((await person.jobs()).map((job) => job.state)).toEqual(['cancelled']);
  });

  it('OneDrive consent withdrawn at Microsoft: roger says to connect it again, and no job is left', async () => {
    const person = await signedInPrinter(host, ms);
    await person.file('fine.pdf', multiPagePdf(2));
    ms.revokeConsent(person.upn);
    const run = await finished(person.roger(['print', 'fine.pdf']));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `roger: fine.pdf: OneDrive no longer lets Roger in for you: connect it in the Roger web app's Settings (${host.url}/app/settings), then print again\n`,
    );
    expect(await person.jobs()).toEqual([]);
  });

  it('OneDrive throttles ranges (429 with Retry-After) or drops one: roger waits, asks the session where it stands, and goes on', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(3000, 'Throttled');
    await person.file('throttled.pdf', document);
    const failedBefore = ms.stats.failedUploads;
    const droppedBefore = ms.stats.droppedUploads;
    const uploadedBefore = ms.stats.uploadedBytes;
    ms.failUploadNext(1, 429, 1);
    const running = person.roger(['print', 'throttled.pdf'], SMALL_RANGES);
    await running.stderrMatches(/throttled\.pdf: 0%/);
    ms.dropUploadNext(1);
    const run = await finished(running);
    expect(run.code, run.stderr).toBe(0);
    expect(ms.stats.failedUploads - failedBefore).toBe(1);
    expect(ms.stats.droppedUploads - droppedBefore).toBe(1);
    // Each byte taken in once.
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(document.length);
    expect(ms.fileBytes(person.upn, 'Print/throttled.pdf')!.equals(document)).toBe(true);
    expect((await person.jobs())[0]).toMatchObject({ state: 'queued', size: document.length });
  });
});

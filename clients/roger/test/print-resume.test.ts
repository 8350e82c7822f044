import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSecretFile } from '@roger-cloud/client-kit/secret-file';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import type { PendingUpload } from '../src/printing/pending-uploads.js';
import { finished, FRAGMENT, SMALL_RANGES, signedInPrinter, type Printer, type RogerRun } from './print-world.js';

/**
 * `roger print` resuming an upload (docs/clients.md#printing): killed mid-way, OneDrive failing
 * for longer than roger waits, the last range's answer lost, and an upload that can no longer
 * go on. Bytes are counted at the Graph stand-in: a resumed upload sends only what OneDrive
 * does not have yet.
 */

describe('roger print resumes', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
  });
  afterAll(async () => {
    await host?.close();
  });

  /**
   * Holds every upload range, then lets them through one at a time until OneDrive has exactly
   * one; the next waits, caught mid-way. (A range is sent only after the one before it was
   * answered, so no second range can slip through.)
   */
  async function oneRangeIn(run: RogerRun) {
    const before = ms.stats.uploadedBytes;
    while (ms.stats.uploadedBytes - before < FRAGMENT) {
      if (run.child.exitCode !== null) throw new Error(`roger ended: ${run.stderr()}`);
      ms.releaseUploads();
      await sleep(20);
    }
    await run.stderrMatches(/: \d+%\n.*: [1-9]\d*%/s);
  }

  /**
   * `roger print <name>` killed while its second range waits at OneDrive, the job registered.
   * That range, let go, is refused (503) rather than taken in, so OneDrive has exactly one range
   * whatever part of it reached the socket. Returns how many bytes OneDrive has.
   */
  async function killedMidUpload(person: Printer, name: string, document: Buffer): Promise<number> {
    await person.file(name, document);
    ms.holdUploadNext(100);
    const before = ms.stats.uploadedBytes;
    const run = person.roger(['print', name], SMALL_RANGES);
    await oneRangeIn(run);
    await sleep(300);
    run.child.kill('SIGKILL');
    await run.exited;
    ms.holdUploadNext(0);
    ms.failUploadNext(1, 503);
    ms.releaseUploads();
    await sleep(50);
    ms.failUploadNext(0, 503);
    return ms.stats.uploadedBytes - before;
  }

  async function pendingUploads(person: Printer): Promise<Record<string, PendingUpload>> {
    return JSON.parse(await readFile(join(person.configDir, 'uploads.json'), 'utf8')) as Record<string, PendingUpload>;
  }

  /** The upload requests (PUT ranges, GET status) the stand-in answered since `from`. */
  const uploadRequests = (from: number) => ms.requests.slice(from).filter((request) => request.path.startsWith('/upload/'));

  it('killed mid-upload: running the same command again sends only the rest, to the same job', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(4000, 'Annual report');
    const had = await killedMidUpload(person, 'annual.pdf', document);
    expect(had).toBe(FRAGMENT);

    // Kept in a file only its user can read: the upload URL is a credential.
    expect((await stat(join(person.configDir, 'uploads.json'))).mode & 0o777).toBe(0o600);
    const [kept] = Object.values(await pendingUploads(person));
    const [job] = await person.jobs();
    expect(kept).toMatchObject({ apiUrl: host.url, jobId: job!.id, uploadUrl: expect.stringMatching(/^http/) });
    expect(job!.state).toBe('registered');

    const uploadedBefore = ms.stats.uploadedBytes;
    const requestsBefore = ms.requests.length;
    const run = await finished(person.roger(['print', 'annual.pdf'], SMALL_RANGES));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`queued ${job!.id} annual.pdf\n`);
    expect(run.stderr).toMatch(/^annual\.pdf: resuming at \d+%\n/);
    expect(run.stderr).toContain(`annual.pdf: resuming at ${Math.floor((had * 100) / document.length)}%\n`);
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(document.length - had);
    // One status question, then only the ranges OneDrive did not have, each answered as taken in.
    const requests = uploadRequests(requestsBefore);
    expect(requests.filter((request) => request.method === 'GET')).toHaveLength(1);
    const ranges = Math.ceil((document.length - had) / FRAGMENT);
    expect(requests.filter((request) => request.method === 'PUT').map((request) => request.status)).toEqual([
      ...Array<number>(ranges - 1).fill(202),
      201,
    ]);
    expect(ms.fileBytes(person.upn, 'Print/annual.pdf')!.equals(document)).toBe(true);
    expect((await person.jobs()).map((one) => [one.id, one.state])).toEqual([[job!.id, 'queued']]);
    expect(await pendingUploads(person)).toEqual({});
  });

  it('OneDrive failing for longer than roger waits: it gives up with the command that resumes, and that command sends only the rest', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(3000, 'Budget');
    await person.file('budget plan.pdf', document);
    ms.holdUploadNext(100);
    const running = person.roger(['print', '--copies', '3', 'budget plan.pdf'], { ...SMALL_RANGES, ROGER_RETRY_FOR_SECONDS: '2' });
    const uploadedBefore = ms.stats.uploadedBytes;
    await oneRangeIn(running);
    ms.holdUploadNext(0);
    ms.failUploadNext(1000, 503, 1);
    ms.releaseUploads();
    const failed = await finished(running);
    ms.failUploadNext(0, 503);

    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr.trim().split('\n').at(-1)).toBe(
      "roger: budget plan.pdf: OneDrive is busy: The service is temporarily unavailable (local Graph double, failUploadNext). (HTTP 503); gave up after trying for 2 s. The upload is kept: run `roger print --copies 3 'budget plan.pdf'` to resume",
    );
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(FRAGMENT);

    const resumed = await finished(person.roger(['print', '--copies', '3', 'budget plan.pdf'], SMALL_RANGES));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(document.length);
    expect(ms.fileBytes(person.upn, 'Print/budget plan.pdf')!.equals(document)).toBe(true);
    expect((await person.jobs()).map((job) => [job.state, job.options.copies])).toEqual([['queued', 3]]);
  });

  it("the last range's answer lost on its way back: the job is made ready without the item id, and the API finds the file", async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(12, 'One range');
    expect(document.length).toBeLessThan(FRAGMENT);
    await person.file('memo.pdf', document);
    const lostBefore = ms.stats.lostUploadAnswers;
    ms.loseUploadAnswerNext(1);
    const run = await finished(person.roger(['print', 'memo.pdf'], SMALL_RANGES));
    expect(run.code, run.stderr).toBe(0);
    expect(ms.stats.lostUploadAnswers - lostBefore).toBe(1);
    expect(ms.listFolder(person.upn, 'Print')).toEqual(['memo.pdf']);
    expect(ms.fileBytes(person.upn, 'Print/memo.pdf')!.equals(document)).toBe(true);
    expect((await person.jobs()).map((job) => job.state)).toEqual(['queued']);
  });

  it('an upload that can no longer go on (its session expired, or OneDrive no longer knows it) starts over, and its job is cancelled', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(2000, 'Starts over');
    await killedMidUpload(person, 'expired.pdf', document);
    await killedMidUpload(person, 'unknown.pdf', document);
    const uploads = await pendingUploads(person);
    const key = (name: string) => Object.keys(uploads).find((one) => one.includes(name))!;
    // As if the first session had passed its time, and OneDrive had dropped the second.
    uploads[key('expired.pdf')] = { ...uploads[key('expired.pdf')]!, expiresAt: new Date(Date.now() - 1000).toISOString() };
    uploads[key('unknown.pdf')] = { ...uploads[key('unknown.pdf')]!, uploadUrl: `${ms.url}/upload/${'x'.repeat(43)}` };
    await writeSecretFile(join(person.configDir, 'uploads.json'), uploads);
    const [first, second] = [uploads[key('expired.pdf')]!.jobId, uploads[key('unknown.pdf')]!.jobId];

    const uploadedBefore = ms.stats.uploadedBytes;
    const run = await finished(person.roger(['print', 'expired.pdf', 'unknown.pdf'], SMALL_RANGES));

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/resuming/);
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(2 * document.length);
    const jobs = await person.jobs();
    expect(jobs.find((job) => job.id === first)!.state).toBe('cancelled');
    expect(jobs.find((job) => job.id === second)!.state).toBe('cancelled');
    expect(jobs.filter((job) => job.state === 'queued').map((job) => job.fileName)).toEqual(['unknown.pdf', 'expired.pdf']);
    expect(ms.fileBytes(person.upn, 'Print/expired.pdf')!.equals(document)).toBe(true);
    expect(ms.fileBytes(person.upn, 'Print/unknown.pdf')!.equals(document)).toBe(true);
    expect(await pendingUploads(person)).toEqual({});
  });

  it('the same file asked again with other options starts over: what prints is what was asked this time', async () => {
    const person = await signedInPrinter(host, ms);
    const document = multiPagePdf(2000, 'Changed my mind');
    await killedMidUpload(person, 'changed.pdf', document);
    const [interrupted] = await person.jobs();
    const run = await finished(person.roger(['print', '--copies', '2', '--paper', 'A3', 'changed.pdf'], SMALL_RANGES));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/resuming/);
    const jobs = await person.jobs();
    expect(jobs.map((job) => [job.id === interrupted!.id, job.state, job.options.copies, job.options.paperSize])).toEqual([
      [false, 'queued', 2, 'A3'],
      [true, 'cancelled', 1, 'A4'],
    ]);
    expect(ms.fileBytes(person.upn, 'Print/changed.pdf')!.equals(document)).toBe(true);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { startTcpOutageProxy, type TcpOutageProxy } from '../../../tests/helpers/tcp-outage.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { finished, SMALL_RANGES, signedInPrinter } from './print-world.js';

/**
 * "The API restarted mid-upload: roger print resumes" (issue 19). The API is reached through a
 * TCP proxy that can drop every connection and refuse new ones, as a restart does; the region's
 * API URL is the proxy's, so tokens name it as their issuer. The uploads go to OneDrive (the
 * stand-in) directly and are not touched: what the API's absence hits is registering the job
 * and marking it ready.
 */

describe('roger print while the API restarts', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;
  let proxy: TcpOutageProxy;

  beforeAll(async () => {
    proxy = await startTcpOutageProxy();
    const regions = [{ id: 'eu', name: 'Europe', apiUrl: proxy.url, amqpUrl: 'amqp://localhost:5672' }];
    ({ host, ms } = await startHostWithMicrosoft({ ROGER_REGIONS: JSON.stringify(regions) }));
    proxy.forwardTo(Number(new URL(host.url).port));
  });
  afterAll(async () => {
    await proxy?.close();
    await host?.close();
  });

  it('The API restarted mid-upload: roger print resumes, and the job ends queued with the right bytes', async () => {
    const person = await signedInPrinter(host, ms, { apiUrl: proxy.url });
    const document = multiPagePdf(3000, 'Through a restart');
    await person.file('restart.pdf', document);
    // The first range waits at OneDrive while the API goes away.
    ms.holdUploadNext(1);
    const running = person.roger(['print', 'restart.pdf'], SMALL_RANGES);
    await running.stderrMatches(/restart\.pdf: 0%/);
    await sleep(200);
    await proxy.down();
    // Held or not yet there (a slow machine): either way it goes on now.
    ms.holdUploadNext(0);
    ms.releaseUploads();
    await sleep(2000);
    // Still trying: the API has been away for two seconds.
    expect(running.child.exitCode).toBeNull();
    await proxy.up();
    const run = await finished(running);

    expect(run.code, run.stderr).toBe(0);
    const jobs = await person.jobs();
    expect(jobs.map((job) => [job.fileName, job.state])).toEqual([['restart.pdf', 'queued']]);
    expect(run.stdout).toBe(`queued ${jobs[0]!.id} restart.pdf\n`);
    expect(ms.fileBytes(person.upn, 'Print/restart.pdf')!.equals(document)).toBe(true);
  });

  it('the API away for longer than roger waits: it says how to resume; that command sends no byte again and only marks the job ready', async () => {
    const person = await signedInPrinter(host, ms, { apiUrl: proxy.url });
    const multi = multiPagePdf(2000, 'Item known');
    const single = multiPagePdf(8, 'Answer lost');
    await person.file('known.pdf', multi);
    await person.file('lost.pdf', single);
    const uploadedBefore = ms.stats.uploadedBytes;

    // known.pdf: the last range answered (the drive item known), then the API gone.
    ms.holdUploadNext(1);
    const first = person.roger(['print', 'known.pdf'], { ...SMALL_RANGES, ROGER_RETRY_FOR_SECONDS: '1' });
    await first.stderrMatches(/known\.pdf: 0%/);
    await sleep(200);
    await proxy.down();
    // Held or not yet there (a slow machine): either way it goes on now.
    ms.holdUploadNext(0);
    ms.releaseUploads();
    const gaveUp = await finished(first);
    expect(gaveUp.code).toBe(1);
    expect(gaveUp.stderr).toMatch(
      new RegExp(
        `^roger: known\\.pdf: cannot reach ${proxy.url}: .*; gave up after trying for 1 s\\. The upload is kept: run \`roger print known\\.pdf\` to resume\\n$`,
        'm',
      ),
    );

    // lost.pdf: its one range taken in but the answer lost, so no item id; then the API still away.
    await proxy.up();
    ms.loseUploadAnswerNext(1);
    ms.holdUploadNext(1);
    const second = person.roger(['print', 'lost.pdf'], { ...SMALL_RANGES, ROGER_RETRY_FOR_SECONDS: '1' });
    await second.stderrMatches(/lost\.pdf: 0%/);
    await sleep(200);
    await proxy.down();
    // Held or not yet there (a slow machine): either way it goes on now.
    ms.holdUploadNext(0);
    ms.releaseUploads();
    expect((await finished(second)).code).toBe(1);
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(multi.length + single.length);

    await proxy.up();
    const requestsBefore = ms.requests.length;
    const resumed = await finished(person.roger(['print', 'known.pdf', 'lost.pdf'], SMALL_RANGES));
    expect(resumed.code, resumed.stderr).toBe(0);
    // Not one byte again: known.pdf straight to ready; lost.pdf's session says it has ended, and the API finds its file.
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(multi.length + single.length);
    expect(ms.requests.slice(requestsBefore).filter((request) => request.method === 'PUT')).toEqual([]);
    const jobs = await person.jobs();
    expect(jobs.map((job) => [job.fileName, job.state])).toEqual([
      ['lost.pdf', 'queued'],
      ['known.pdf', 'queued'],
    ]);
    expect(resumed.stdout).toBe(`queued ${jobs[1]!.id} known.pdf\nqueued ${jobs[0]!.id} lost.pdf\n`);
    expect(ms.fileBytes(person.upn, 'Print/known.pdf')!.equals(multi)).toBe(true);
    expect(ms.fileBytes(person.upn, 'Print/lost.pdf')!.equals(single)).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { approvedSession } from '../../../tests/helpers/fixtures.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { jobState, northwind, queuedJob, startReceiver } from './receive-world.js';

/** The SAS token lives 20 minutes; this much of it is left when the receiver gets it (see below). */
const SAS_LEFT_SECONDS = 8;

/**
 * docs/clients.md#messaging-credentials: the printer's SAS token is renewed before it expires, and the
 * receiver goes on with the new one. The API's clock is set back so that the 20-minute token
 * it signs expires, by the broker's real clock, SAS_LEFT_SECONDS after it is made; every
 * other token is judged on the API's own clock and stays valid.
 */
describe('roger-printer renews its messaging credentials', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ host, ms } = await startHostWithMicrosoft());
    host.advanceClock(-(20 * 60 - SAS_LEFT_SECONDS));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('fetches a new SAS token before the old one expires and keeps receiving with it', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const asked = () => host.logs.filter((line) => line.includes('route=/api/devices/me/amqp-token ')).length;
    const before = asked();
    const started = Date.now();
    const receiver = await startReceiver(host.url, printer);
    try {
      // Renewed three quarters into the token's life (at least 5 s in), with no reconnection in between.
      await expect.poll(asked, { timeout: SAS_LEFT_SECONDS * 1000, interval: 200 }).toBeGreaterThanOrEqual(before + 2);
      // The first token has expired now: the broker would refuse it a new link.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + SAS_LEFT_SECONDS * 1000 + 500 - Date.now())));
      const document = multiPagePdf(1, 'After renewal');
      const jobId = await queuedJob(host, userToken, 'After renewal.pdf', document);
      receiver.sessions.add((await approvedSession(host, printer, userToken)).token);
      await receiver.until((lines) => lines.some((line) => line.startsWith(`printed ${jobId} → `)));
      await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('printed');
      expect(receiver.lines.filter((line) => line.startsWith('connection lost'))).toEqual([]);
    } finally {
      expect(await receiver.stop()).toBeUndefined();
    }
  });
});

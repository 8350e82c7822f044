import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobDoc } from '../../shared/jobs/jobs.js';
import { releaseTopicName, type Messaging } from '../../shared/messaging/messaging.js';
import { linkId, type OneDriveLinkDoc } from '../../shared/onedrive/links.js';
import { GRAPH_REQUEST_TIMEOUT_MS } from '../../shared/onedrive/graph-drive.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import type { LocalServiceBus } from '../../tools/service-bus/broker.js';
import { browserGet } from '../helpers/microsoft.js';
import { standInOf } from '../helpers/onedrive.js';
import { amqpCredentials, enrollPrinter, printerClient, receiveReleases, startSession, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { inContainer } from './cosmos-fault-proxy.js';
import { expectUnavailableProblem, timedApi, type TimedAnswer } from './fault-kit.js';
import { startFaultyStoreHost, type FaultyStoreHost } from './faulty-store.js';

/**
 * Service Bus down or flapping during a release, and Microsoft Graph too slow to answer
 * (docs/flows.md#release-to-printers: a dispatch that fails leaves the job queued and says so; nothing is lost). The
 * app sends through the real @azure/service-bus SDK to the local broker over TCP and reaches
 * Graph through the real Graph client over HTTP; the printer receives with only its SAS token.
 * The store is the faulty one of store-faults.test.ts, for the case where the send succeeds and
 * recording it does not.
 */
const admin: Person = { email: 'ada@contoso.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const uma: Person = { email: 'uma@contoso.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };
const ola: Person = { email: 'ola@contoso.test', username: 'ola', fullName: 'Ola User', password: 'ola-password-12' };
const UPN = { ada: 'ada@contoso.example', uma: 'uma@contoso.example', ola: 'ola@contoso.example' };

describe('Service Bus and Microsoft Graph faults', () => {
  let ms: LocalMicrosoft;
  let faulty: FaultyStoreHost;
  let broker: LocalServiceBus;
  let tenantId: string;
  const tokens: Record<'ada' | 'uma' | 'ola', string> = {} as never;
  const userIds: Record<'ada' | 'uma' | 'ola', string> = {} as never;
  let printerA: EnrolledPrinter;
  let printerB: EnrolledPrinter;

  const host = () => faulty.host;

  async function submit(who: 'uma' | 'ola', fileName: string): Promise<string> {
    const created = await api(host(), tokens[who], 'POST', '/api/jobs', { fileName, size: 4096 });
    expect(created.status).toBe(201);
    expect((await api(host(), tokens[who], 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body.id;
  }

  /** A OneDrive job: registered with an upload URL, the bytes sent straight to it; queued unless `queue` is false. */
  async function submitOneDrive(who: 'uma' | 'ola', fileName: string, queue = true) {
    const bytes = randomBytes(3000);
    const created = await api(host(), tokens[who], 'POST', '/api/jobs', { fileName, size: bytes.length });
    expect(created.body).toMatchObject({ document: 'onedrive', upload: { url: expect.any(String) } });
    const uploaded = await fetch(created.body.upload.url, {
      method: 'PUT',
      headers: { 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
      body: bytes,
    });
    expect(uploaded.status).toBe(201);
    const itemId = ((await uploaded.json()) as { id: string }).id;
    if (queue) expect((await api(host(), tokens[who], 'POST', `/api/jobs/${created.body.id}/ready`, { itemId })).body.state).toBe('queued');
    return { id: created.body.id as string, itemId, bytes };
  }

  /** The job item as stored: state, and whether a release claim is held. */
  async function storedJob(who: 'uma' | 'ola', jobId: string): Promise<JobDoc | undefined> {
    const { store } = await host().services();
    return (await store.container('jobs').item(jobId, `${tenantId}|${userIds[who]}`).read<JobDoc>()).resource;
  }

  async function expectQueuedUnclaimed(who: 'uma' | 'ola', jobId: string) {
    const job = await storedJob(who, jobId);
    expect(job).toMatchObject({ id: jobId, state: 'queued' });
    expect(job?.releaseClaim).toBeUndefined();
    expect(job?.releasedTo).toBeUndefined();
  }

  // A region's first printers (fewer than RELEASE_TOPIC_CAPACITY) are all on its first release topic.
  const waiting = (printer: EnrolledPrinter) => broker.countMessages(releaseTopicName(0), printer.deviceId).active;

  /** Everything waiting on the printer's subscription, received as the printer does; none left after. */
  async function drain(printer: EnrolledPrinter, expected: number) {
    expect(waiting(printer)).toBe(expected);
    const credentials = await amqpCredentials(host(), printer.access);
    const client = printerClient(credentials);
    try {
      const messages = await receiveReleases(client, credentials.entityPath, expected, 1000);
      expect(messages).toHaveLength(expected);
      expect(waiting(printer)).toBe(0);
      return messages;
    } finally {
      await client.close();
    }
  }

  /** The user's browser through Entra's consent to our callback. */
  async function connectOneDrive(who: 'ada' | 'uma' | 'ola') {
    ms.setDefaultAccount(UPN[who]);
    const started = await api(host(), tokens[who], 'GET', '/api/onedrive/connect');
    const consent = await browserGet(started.body.authorizationUrl);
    expect(consent.status).toBe(302);
    const startedAt = performance.now();
    const callback = await fetch(consent.location!, { redirect: 'manual' });
    const text = await callback.text();
    const body = callback.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: callback.status, headers: callback.headers, body, ms: performance.now() - startedAt } satisfies TimedAnswer;
  }

  beforeAll(async () => {
    // The host's own Entra ID and Graph stand-in: MSAL over its HTTPS listener, Graph over the plain one.
    faulty = await startFaultyStoreHost({
      ...oauthEnv,
      ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'faults1', key: randomBytes(32).toString('base64') }] }),
    });
    ms = await standInOf(await host().services());
    tenantId = (await createTenant(host(), 'contoso', admin)).id;
    tokens.ada = (await mobileSignIn(host(), 'contoso', admin)).access_token;
    for (const [name, person] of [
      ['uma', uma],
      ['ola', ola],
    ] as const) {
      userIds[name] = (await api(host(), tokens.ada, 'POST', '/api/users', person)).body.id;
      tokens[name] = (await mobileSignIn(host(), 'contoso', person)).access_token;
    }
    userIds.ada = (await api(host(), tokens.ada, 'GET', '/api/me')).body.user.id;
    broker = ((await (await host().services()).messaging()) as Messaging & { broker: LocalServiceBus }).broker;
    printerA = await enrollPrinter(host(), tokens.ada, 'Printer A');
    printerB = await enrollPrinter(host(), tokens.ada, 'Printer B');
  });
  afterEach(async () => {
    faulty.proxy.clear();
    ms.slowNext(0, 0);
    await broker.resume();
  });
  afterAll(async () => {
    expect(host().logs.filter((line) => line.includes('unhandled-error'))).toEqual([]);
    await faulty?.close();
  });

  describe('Service Bus', () => {
    it('down for POST /api/jobs/{id}/release: 503 + Retry-After, the job stays queued and unclaimed; back up, one release delivers it once', async () => {
      const { token: session } = await startSession(host(), printerA, tokens.uma);
      const jobId = await submit('uma', 'Outage.pdf');
      await broker.pause();
      const refused = await timedApi(host(), session, 'POST', `/api/jobs/${jobId}/release`);
      expectUnavailableProblem(refused, '10');
      expect(refused.body).toMatchObject({ state: 'queued' });
      expect(refused.ms).toBeLessThan(3000);
      await expectQueuedUnclaimed('uma', jobId);
      expect(waiting(printerA)).toBe(0);

      await broker.resume();
      const released = await api(host(), session, 'POST', `/api/jobs/${jobId}/release`);
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({ id: jobId, state: 'released' });
      // Released means released: a second attempt is refused and sends nothing.
      expect((await api(host(), session, 'POST', `/api/jobs/${jobId}/release`)).status).toBe(409);
      const [message] = await drain(printerA, 1);
      expect(message!.body).toMatchObject({ jobId, fileName: 'Outage.pdf' });
      expect(message!.messageId).toBe(`${jobId}:${message!.correlationId}`);
    });

    it('flapping (down, up, down, up): every failed attempt leaves the job queued; the printer gets it exactly once', async () => {
      const { token: session } = await startSession(host(), printerA, tokens.uma);
      const jobId = await submit('uma', 'Flapping.pdf');
      for (let round = 0; round < 2; round += 1) {
        await broker.pause();
        const refused = await timedApi(host(), session, 'POST', `/api/jobs/${jobId}/release`);
        expectUnavailableProblem(refused, '10');
        expect(refused.ms).toBeLessThan(3000);
        await expectQueuedUnclaimed('uma', jobId);
        await broker.resume();
      }
      expect(waiting(printerA)).toBe(0);
      expect((await api(host(), session, 'POST', `/api/jobs/${jobId}/release`)).body.state).toBe('released');
      const messages = await drain(printerA, 1);
      expect(messages.map((m) => m.body.jobId)).toEqual([jobId]);
    });

    it('the send goes out but recording it fails (store 503): 503 + Retry-After, job still queued; the retry is dropped as a duplicate, delivered once', async () => {
      const { token: session } = await startSession(host(), printerA, tokens.uma);
      const jobId = await submit('uma', 'Recorded later.pdf');
      // A release writes the job twice: the claim before the send, the state after it.
      let jobWrites = 0;
      faulty.proxy.inject({
        fault: { kind: 'unavailable' },
        times: 1,
        match: (r) => r.method === 'PUT' && inContainer('jobs')(r) && ++jobWrites === 2,
      });
      const unrecorded = await timedApi(host(), session, 'POST', `/api/jobs/${jobId}/release`);
      expectUnavailableProblem(unrecorded);
      expect(jobWrites).toBe(2);
      expect((await storedJob('uma', jobId))?.state).toBe('queued');
      expect(waiting(printerA)).toBe(1); // the message is out

      // The client retries as told: same session, same message id, dropped by duplicate detection.
      const retried = await api(host(), session, 'POST', `/api/jobs/${jobId}/release`);
      expect(retried.status).toBe(200);
      expect(retried.body.state).toBe('released');
      const messages = await drain(printerA, 1);
      expect(messages.map((m) => m.body.jobId)).toEqual([jobId]);
    });
  });

  describe(`Microsoft Graph too slow (no answer within ${GRAPH_REQUEST_TIMEOUT_MS} ms)`, () => {
    const held: { umaReady?: string; umaReadyItem?: string; umaQueued?: string; olaQueued?: string[]; umaSession?: string } = {};

    beforeAll(async () => {
      for (const who of ['uma', 'ola'] as const) expect((await connectOneDrive(who)).status).toBe(200);
    });

    it('every OneDrive route answers 503 + Retry-After in bounded time; nothing is half-written', async () => {
      const ready = await submitOneDrive('uma', 'Slow ready.pdf', false);
      await submitOneDrive('uma', 'Slow release.pdf');
      const { token: umaSession } = await startSession(host(), printerA, tokens.uma); // releases "Slow release.pdf"
      expect(await drain(printerA, 1)).toHaveLength(1);
      const again = await submitOneDrive('uma', 'Slow release 2.pdf');
      // More than one round of download-URL requests (8 at a time) for Ola's session.
      const olaJobs = [];
      for (let n = 1; n <= 10; n += 1) olaJobs.push(await submitOneDrive('ola', `Ola ${n}.pdf`));
      Object.assign(held, {
        umaReady: ready.id,
        umaReadyItem: ready.itemId,
        umaQueued: again.id,
        olaQueued: olaJobs.map((j) => j.id),
        umaSession,
      });

      const umaJobs = async () => (await api(host(), tokens.uma, 'GET', '/api/jobs?limit=100')).body.items.length as number;
      const umaJobsBefore = await umaJobs();

      // Graph now keeps every request waiting for a minute.
      ms.slowNext(1000, 60_000);
      const slowedBefore = ms.stats.slowed;
      const [createAnswer, readyAnswer, releaseAnswer, listAnswer, connectAnswer, approval] = await Promise.all([
        timedApi(host(), tokens.uma, 'POST', '/api/jobs', { fileName: 'Never registered.pdf', size: 100 }),
        timedApi(host(), tokens.uma, 'POST', `/api/jobs/${ready.id}/ready`, { itemId: ready.itemId }),
        timedApi(host(), umaSession, 'POST', `/api/jobs/${again.id}/release`),
        timedApi(host(), umaSession, 'GET', '/api/onedrive/print'),
        connectOneDrive('ada'),
        (async () => {
          const startedAt = performance.now();
          const session = await startSession(host(), printerB, tokens.ola);
          return { ...session, ms: performance.now() - startedAt };
        })(),
      ]);
      // One Graph request each for create, ready, release, list and connect; 8 for the approval:
      // after the first round timed out, the last 2 of Ola's jobs were held back without asking.
      expect(ms.stats.slowed - slowedBefore).toBe(13);
      for (const answer of [createAnswer, readyAnswer, releaseAnswer, listAnswer, connectAnswer]) {
        expectUnavailableProblem(answer, '10');
        expect(answer.body.detail).toMatch(/did not answer in time/);
        expect(answer.ms).toBeGreaterThanOrEqual(GRAPH_REQUEST_TIMEOUT_MS - 100);
        expect(answer.ms).toBeLessThan(GRAPH_REQUEST_TIMEOUT_MS + 3000);
      }
      // The session is approved; its OneDrive jobs are held back (queued), not lost.
      expect(approval.release).toEqual({ released: 0, queued: 10, dispatched: true });
      expect(approval.ms).toBeLessThan(GRAPH_REQUEST_TIMEOUT_MS + 4000);
      ms.slowNext(0, 0);

      // Nothing half-written: no job without its upload session, the unconfirmed job is still
      // registered without an item, the queued ones are queued without claims, no message went
      // out, Ada has no link.
      expect(await umaJobs()).toBe(umaJobsBefore);
      const unconfirmed = await storedJob('uma', ready.id);
      expect(unconfirmed).toMatchObject({ state: 'registered' });
      expect(unconfirmed?.onedrive?.itemId).toBeUndefined();
      await expectQueuedUnclaimed('uma', again.id);
      for (const job of olaJobs) await expectQueuedUnclaimed('ola', job.id);
      expect(waiting(printerA)).toBe(0);
      expect(waiting(printerB)).toBe(0);
      const { store } = await host().services();
      expect((await store.container('accounts').item(linkId(userIds.ada), tenantId).read<OneDriveLinkDoc>()).resource).toBeUndefined();
      expect((await api(host(), tokens.ada, 'GET', '/api/me')).body.onedrive).toEqual({ status: 'not-connected' });
    });

    it('once Graph answers again, everything held back goes through, each job exactly once', async () => {
      expect(held.umaSession).toBeDefined();
      expect((await api(host(), tokens.uma, 'POST', `/api/jobs/${held.umaReady}/ready`, { itemId: held.umaReadyItem })).body.state).toBe(
        'queued',
      );
      const released = await api(host(), held.umaSession, 'POST', `/api/jobs/${held.umaQueued}/release`);
      expect(released.status).toBe(200);
      const [message] = await drain(printerA, 1);
      expect(message!.body).toMatchObject({ jobId: held.umaQueued, downloadUrl: expect.stringMatching(/^http/) });
      expect((await fetch(message!.body.downloadUrl)).status).toBe(200);

      expect((await api(host(), held.umaSession, 'GET', '/api/onedrive/print')).status).toBe(200);
      expect((await connectOneDrive('ada')).status).toBe(200);
      expect((await api(host(), tokens.ada, 'GET', '/api/me')).body.onedrive).toMatchObject({ status: 'connected' });

      // Ola's next session at the printer releases the two jobs held back.
      expect((await startSession(host(), printerB, tokens.ola)).release).toEqual({ released: 10, queued: 0, dispatched: true });
      const messages = await drain(printerB, 10);
      expect(messages.map((m) => m.body.jobId).sort()).toEqual([...held.olaQueued!].sort());
    });
  });
});

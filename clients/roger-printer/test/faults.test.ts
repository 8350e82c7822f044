import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { approvedSession } from '../../../tests/helpers/fixtures.js';
import { startHostWithMicrosoft } from '../../../tests/helpers/onedrive.js';
import { multiPagePdf } from '../../../tests/helpers/pdf.js';
import { api } from '../../../tests/helpers/roger.js';
import { startTcpOutageProxy, type TcpOutageProxy } from '../../../tests/helpers/tcp-outage.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { Disconnected } from '../src/contracts.js';
import { brokerOf, countOn, jobState, northwind, queuedJob, startReceiver, topicOf, type Running } from './receive-world.js';

/**
 * docs/clients.md#faults: the broker and the API going away while jobs are being released, and
 * the printer disconnected while it runs. Whatever happens, every job is printed exactly once
 * and reported, and nothing is left on the subscription.
 */
describe('roger-printer through faults', () => {
  let host: TestHost;
  let ms: LocalMicrosoft;
  let proxy: TcpOutageProxy;
  let running: Running[] = [];
  const saved = { first: process.env.ROGER_PRINTER_BACKOFF_MS, max: process.env.ROGER_PRINTER_BACKOFF_MAX_MS };

  beforeAll(async () => {
    // Test-only knobs (docs/clients.md#reconnecting): reconnect within a second, not half a minute.
    process.env.ROGER_PRINTER_BACKOFF_MS = '100';
    process.env.ROGER_PRINTER_BACKOFF_MAX_MS = '800';
    ({ host, ms } = await startHostWithMicrosoft());
    proxy = await startTcpOutageProxy();
    proxy.forwardTo(Number(new URL(host.url).port));
  });
  afterEach(async () => {
    for (const receiver of running) await receiver.stop();
    running = [];
    await proxy.up();
    await (await brokerOf(host)).resume();
  });
  afterAll(async () => {
    await proxy?.close();
    await host?.close();
    process.env.ROGER_PRINTER_BACKOFF_MS = saved.first;
    process.env.ROGER_PRINTER_BACKOFF_MAX_MS = saved.max;
    if (saved.first === undefined) delete process.env.ROGER_PRINTER_BACKOFF_MS;
    if (saved.max === undefined) delete process.env.ROGER_PRINTER_BACKOFF_MAX_MS;
  });

  /** Three queued jobs of one person, each with its own document. */
  async function threeJobs(userToken: string) {
    const documents = [1, 2, 3].map((pages) => multiPagePdf(pages, `Fault test ${pages}`));
    const ids = [];
    for (const [index, document] of documents.entries()) ids.push(await queuedJob(host, userToken, `Part ${index + 1}.pdf`, document));
    return { ids, documents };
  }

  /** Each job printed exactly once, with its own bytes; reported; nothing left on the subscription. */
  async function expectEachPrintedOnce(receiver: Running, userToken: string, deviceId: string, ids: string[], documents: Buffer[]) {
    for (const id of ids) await receiver.until((lines) => lines.some((line) => line.startsWith(`printed ${id} → `)), 20_000);
    const files = await receiver.files();
    expect(files).toHaveLength(ids.length);
    for (const [index, id] of ids.entries()) {
      const file = files.find((name) => name.endsWith(`-${id}.pdf`));
      expect((await receiver.read(file!)).equals(documents[index]!)).toBe(true);
      expect(receiver.lines.filter((line) => line.startsWith(`printed ${id} `))).toHaveLength(1);
      await expect.poll(() => jobState(host, userToken, id), { timeout: 15_000 }).toBe('printed');
    }
    const broker = await brokerOf(host);
    await expect.poll(() => countOn(broker, deviceId), { timeout: 10_000 }).toEqual({ active: 0, deadLetter: 0 });
  }

  /**
   * The printer's subscription with locks of 2 s instead of 60 (the same filter): a message held
   * by a lost connection comes back within the test. The SDK renews locks while it is connected.
   */
  async function shortLocks(deviceId: string) {
    const broker = await brokerOf(host);
    const topic = topicOf(broker, deviceId);
    broker.deleteSubscription(topic, deviceId);
    broker.createSubscription(topic, deviceId, {
      correlationFilter: { applicationProperties: { printerId: deviceId } },
      lockDurationMs: 2000,
      maxDeliveryCount: 10,
    });
    return broker;
  }

  it('the broker and the API both restart in the middle of one release: nothing is lost, nothing printed twice, every job reported', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const broker = await shortLocks(printer.deviceId);
    const { ids, documents } = await threeJobs(userToken);
    let outage: Promise<unknown> | undefined;
    const receiver = await startReceiver(proxy.url, printer, {
      // Both go away the moment the first document is written and recorded, before its message
      // is completed and reported.
      onLine: (line) => {
        if (!outage && line.startsWith('printed ')) outage = Promise.all([broker.pause(), proxy.down()]);
      },
    });
    running.push(receiver);
    receiver.sessions.add((await approvedSession(host, printer, userToken)).token);
    await receiver.until((lines) => lines.some((line) => line.startsWith('connection lost: ')));
    await outage;
    // The broker is back first; the reconnection still needs a SAS token from the API, which is
    // not: it waits for it, and says so.
    await broker.resume();
    await receiver.until((lines) => lines.some((line) => line.startsWith(`connection lost: cannot reach ${proxy.url}`)));
    expect(receiver.lines).not.toContain('reconnected: receiving releases');
    await proxy.up();
    await receiver.until((lines) => lines.includes('reconnected: receiving releases'));
    await expectEachPrintedOnce(receiver, userToken, printer.deviceId, ids, documents);
    // The first job's completion was cut off with the broker: whether it reached the broker
    // before the connection went (its answer lost) or the message came back, it printed once
    // (the message coming back is receive.test.ts's "printed, recorded, but not completed").
    const first = receiver.lines.find((line) => line.startsWith('printed '))!.split(' ')[1];
    expect(receiver.lines.filter((line) => line.startsWith(`printed ${first} `))).toHaveLength(1);
  });

  it('the broker is down when the person approves: the jobs stay queued; released again once it is back, they print once', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const broker = await brokerOf(host);
    const { ids, documents } = await threeJobs(userToken);
    const receiver = await startReceiver(host.url, printer);
    running.push(receiver);
    await broker.pause();
    const session = await approvedSession(host, printer, userToken);
    expect(session.release).toMatchObject({ released: 0, dispatched: false });
    receiver.sessions.add(session.token);
    await receiver.until((lines) => lines.some((line) => line.startsWith('connection lost: ')));
    await broker.resume();
    for (const id of ids) expect((await api(host, session.token, 'POST', `/api/jobs/${id}/release`)).status).toBe(200);
    await expectEachPrintedOnce(receiver, userToken, printer.deviceId, ids, documents);
  });

  it('the API goes away during a release: printing goes on, the reports wait and are sent when it is back', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const { ids, documents } = await threeJobs(userToken);
    const receiver = await startReceiver(proxy.url, printer);
    running.push(receiver);
    // The person's phone still reaches the API; the printer's way to it is cut (a restart, as the printer sees it).
    await proxy.down();
    receiver.sessions.add((await approvedSession(host, printer, userToken)).token);
    for (const id of ids) await receiver.until((lines) => lines.some((line) => line.startsWith(`printed ${id} → `)));
    for (const id of ids) expect(await jobState(host, userToken, id)).toBe('released');
    await proxy.up();
    await expectEachPrintedOnce(receiver, userToken, printer.deviceId, ids, documents);
  });

  it('the API goes away while a job fails: the message is not completed until the failure is reported', async () => {
    const { userToken, printer } = await northwind(host, ms);
    const jobId = await queuedJob(host, userToken, 'Broken.pdf', Buffer.from('not a PDF at all'));
    const receiver = await startReceiver(proxy.url, printer);
    running.push(receiver);
    await proxy.down();
    receiver.sessions.add((await approvedSession(host, printer, userToken)).token);
    await receiver.until((lines) => lines.some((line) => line.startsWith('connection lost: ')));
    expect(await jobState(host, userToken, jobId)).toBe('released');
    await proxy.up();
    await receiver.until((lines) => lines.includes(`failed ${jobId}: document-unreadable`));
    await expect.poll(() => jobState(host, userToken, jobId), { timeout: 10_000 }).toBe('failed');
    expect(await receiver.files()).toEqual([]);
    const broker = await brokerOf(host);
    await expect.poll(() => countOn(broker, printer.deviceId)).toEqual({ active: 0, deadLetter: 0 });
  });

  it('disconnected by an admin while it runs: runReceiver rejects with Disconnected within seconds', async () => {
    const { adminToken, printer } = await northwind(host, ms);
    const receiver = await startReceiver(host.url, printer);
    const started = Date.now();
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    const error = await receiver.done;
    expect(error).toBeInstanceOf(Disconnected);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((error as Error).message).toMatch(/no longer connected to Roger/);
    expect(receiver.lines.join('\n')).not.toMatch(/eyJ|SharedAccessSignature/);
  });
});

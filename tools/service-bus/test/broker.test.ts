/**
 * The local Service Bus broker driven by the real @azure/service-bus SDK over TCP.
 * One broker for the file; each test uses its own topic so that tests do not see each other's
 * messages. The broker's clock is Date.now() + `clockOffsetMs`, only ever moved forward.
 */
import { createHmac } from 'node:crypto';
import {
  ServiceBusClient,
  type ServiceBusClientOptions,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalServiceBus, type LocalServiceBus } from '../broker.js';

const ROOT = { name: 'RootManageSharedAccessKey', key: 'root-key-0123456789', rights: ['Manage'] } as const;
const LISTEN = { name: 'printer-listen', key: 'listen-key-0123456789', rights: ['Listen'] } as const;
const SEND = { name: 'api-send', key: 'send-key-0123456789', rights: ['Send'] } as const;

let bus: LocalServiceBus;
let clockOffsetMs = 0;
const clients: ServiceBusClient[] = [];

/**
 * The SDK retries UnauthorizedAccess (credentials may have rotated) and reports a failure after a
 * retry as an AggregateError of every attempt's error: clients that expect refusals use 0 retries.
 */
function client(connectionString = bus.connectionString(ROOT.name), maxRetries = 1): ServiceBusClient {
  const options: ServiceBusClientOptions = { retryOptions: { maxRetries, timeoutInMs: 3000, retryDelayInMs: 100 } };
  const created = new ServiceBusClient(connectionString, options);
  clients.push(created);
  return created;
}

/** A SAS token minted the documented way, with node:crypto only. */
function sasToken(resourceUri: string, rule: { name: string; key: string }, expiresAtSeconds: number): string {
  const sr = encodeURIComponent(resourceUri);
  const sig = createHmac('sha256', rule.key).update(`${sr}\n${expiresAtSeconds}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiresAtSeconds}&skn=${encodeURIComponent(rule.name)}`;
}

function sasConnectionString(token: string): string {
  return `Endpoint=sb://127.0.0.1:${bus.port};SharedAccessSignature=${token};UseDevelopmentEmulator=true`;
}

function inSeconds(seconds: number): number {
  return Math.floor((Date.now() + clockOffsetMs) / 1000) + seconds;
}

/** Advances the broker's clock and lets its 100 ms sweep apply lock expiry and TTL. */
async function advanceClock(ms: number): Promise<void> {
  clockOffsetMs += ms;
  await new Promise((resolve) => setTimeout(resolve, 150));
}

async function receive(receiver: ServiceBusReceiver, count: number, maxWaitTimeInMs = 2000): Promise<ServiceBusReceivedMessage[]> {
  return receiver.receiveMessages(count, { maxWaitTimeInMs });
}

let topicCounter = 0;
/** A fresh topic with subscriptions A and B filtered on printerId. */
function topicWithPrinters(options: Parameters<LocalServiceBus['createSubscription']>[2] = {}): string {
  const topic = `releases-${++topicCounter}`;
  bus.createTopic(topic, { duplicateDetectionWindowMs: 10 * 60_000 });
  for (const printer of ['A', 'B']) {
    bus.createSubscription(topic, printer, { ...options, correlationFilter: { applicationProperties: { printerId: printer } } });
  }
  return topic;
}

beforeAll(async () => {
  bus = await startLocalServiceBus({ rules: [ROOT, LISTEN, SEND], now: () => Date.now() + clockOffsetMs });
});

afterAll(async () => {
  // Open SDK clients keep node busy for ~50 s: close every one before the broker.
  await Promise.all(clients.map((c) => c.close()));
  await bus.close();
});

describe('sending and receiving', () => {
  test('single, batch and array sends arrive with every property the product uses', async () => {
    const topic = topicWithPrinters();
    const sb = client();
    const sender = sb.createSender(topic);
    await sender.sendMessages({
      body: { type: 'release', jobId: 'j1' },
      messageId: 'j1:r1',
      correlationId: 'session-1',
      contentType: 'application/json',
      subject: 'release',
      timeToLive: 120_000,
      applicationProperties: { printerId: 'A', copies: 2 },
    });
    const batch = await sender.createMessageBatch();
    expect(batch.tryAddMessage({ body: 'batch-1', messageId: 'b1', applicationProperties: { printerId: 'A' } })).toBe(true);
    expect(batch.tryAddMessage({ body: Buffer.from([1, 2, 3]), messageId: 'b2', applicationProperties: { printerId: 'A' } })).toBe(true);
    await sender.sendMessages(batch);
    await sender.sendMessages([
      { body: 'array-1', messageId: 'a1', applicationProperties: { printerId: 'A' } },
      { body: 'array-2', messageId: 'a2', applicationProperties: { printerId: 'A' } },
    ]);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 5, deadLetter: 0 });

    const receiver = sb.createReceiver(topic, 'A');
    const messages = await receive(receiver, 5);
    expect(messages.map((m) => m.messageId)).toEqual(['j1:r1', 'b1', 'b2', 'a1', 'a2']);
    const [first] = messages;
    expect(first).toMatchObject({
      body: { type: 'release', jobId: 'j1' },
      correlationId: 'session-1',
      contentType: 'application/json',
      subject: 'release',
      timeToLive: 120_000,
      applicationProperties: { printerId: 'A', copies: 2 },
      deliveryCount: 0,
    });
    expect(messages[2]?.body).toEqual(Buffer.from([1, 2, 3]));
    const sequenceNumbers = messages.map((m) => m.sequenceNumber?.toNumber() ?? 0);
    expect(sequenceNumbers).toEqual([...sequenceNumbers].sort((a, b) => a - b));
    expect(new Set(messages.map((m) => m.lockToken)).size).toBe(5);
    expect(first?.lockedUntilUtc?.getTime()).toBeGreaterThan(Date.now() + 50_000); // default lock 60 s
    expect(first?.enqueuedTimeUtc).toBeInstanceOf(Date);
    for (const m of messages) await receiver.completeMessage(m);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 0 });
  });

  test('the correlation filter routes each printer only its own messages', async () => {
    const topic = topicWithPrinters();
    const sb = client();
    const sender = sb.createSender(topic);
    await sender.sendMessages(['A', 'B', 'A', 'C'].map((printerId, i) => ({ body: i, applicationProperties: { printerId } })));
    await sender.sendMessages({ body: 'no printer' });
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 2, deadLetter: 0 });
    expect(bus.countMessages(topic, 'B')).toEqual({ active: 1, deadLetter: 0 });
    const fromA = await receive(sb.createReceiver(topic, 'A', { receiveMode: 'receiveAndDelete' }), 2);
    expect(fromA.map((m) => m.body)).toEqual([0, 2]);
    expect(fromA.every((m) => m.applicationProperties?.printerId === 'A')).toBe(true);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 0 }); // receiveAndDelete removed them
  });

  test('duplicate detection drops a second send with the same messageId, even inside one batch', async () => {
    const topic = topicWithPrinters();
    const sender = client().createSender(topic);
    const release = { body: 'job', messageId: 'job-7:release-1', applicationProperties: { printerId: 'A' } };
    await sender.sendMessages(release);
    await sender.sendMessages(release); // accepted, not delivered again
    await sender.sendMessages([release, { ...release, messageId: 'job-8:release-1' }, { ...release, messageId: 'job-8:release-1' }]);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 2, deadLetter: 0 });
  });

  test('subscribe() delivers, autoCompletes and settles', async () => {
    const topic = topicWithPrinters();
    const sb = client();
    await sb.createSender(topic).sendMessages([1, 2, 3].map((n) => ({ body: n, applicationProperties: { printerId: 'B' } })));
    const receiver = sb.createReceiver(topic, 'B');
    const bodies: unknown[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      const subscription = receiver.subscribe({
        processMessage: async (message) => {
          bodies.push(message.body);
          if (bodies.length === 3) setTimeout(() => void subscription.close().then(resolve), 50);
        },
        processError: async ({ error }) => {
          errors.push(error);
        },
      });
    });
    expect(bodies).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
    expect(bus.countMessages(topic, 'B')).toEqual({ active: 0, deadLetter: 0 });
  });

  test('sending to a missing topic or receiving from a missing subscription is MessagingEntityNotFound', async () => {
    const sb = client();
    await expect(sb.createSender('no-such-topic').sendMessages({ body: 1 })).rejects.toMatchObject({ code: 'MessagingEntityNotFound' });
    const topic = topicWithPrinters();
    await expect(receive(sb.createReceiver(topic, 'nobody'), 1, 500)).rejects.toMatchObject({ code: 'MessagingEntityNotFound' });
  });
});

describe('settlement', () => {
  test('abandon makes a message available again with deliveryCount + 1; deadLetter moves it to the DLQ', async () => {
    const topic = topicWithPrinters();
    const sb = client();
    await sb.createSender(topic).sendMessages({ body: 'x', messageId: 'm1', applicationProperties: { printerId: 'A' } });
    const receiver = sb.createReceiver(topic, 'A');
    const [first] = await receive(receiver, 1);
    expect(first?.deliveryCount).toBe(0);
    await receiver.abandonMessage(first!);
    const [second] = await receive(receiver, 1);
    expect(second).toMatchObject({ messageId: 'm1', deliveryCount: 1 });
    await receiver.deadLetterMessage(second!, { deadLetterReason: 'PrinterOffline', deadLetterErrorDescription: 'no paper' });
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 1 });

    const dlq = sb.createReceiver(topic, 'A', { subQueueType: 'deadLetter' });
    const [dead] = await receive(dlq, 1);
    expect(dead).toMatchObject({ messageId: 'm1', body: 'x', deadLetterReason: 'PrinterOffline', deadLetterErrorDescription: 'no paper' });
    await dlq.completeMessage(dead!);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 0 });
  });

  test('an expired lock makes the message available again and the late complete fails with MessageLockLost', async () => {
    const topic = topicWithPrinters({ lockDurationMs: 30_000 });
    const sb = client();
    await sb.createSender(topic).sendMessages({ body: 'slow', applicationProperties: { printerId: 'A' } });
    // No auto lock renewal: it would keep the lock alive through $management renew-lock.
    const receiver = sb.createReceiver(topic, 'A', { maxAutoLockRenewalDurationInMs: 0 });
    const [locked] = await receive(receiver, 1);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 0 });
    await advanceClock(31_000);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 1, deadLetter: 0 });
    const [again] = await receive(receiver, 1);
    expect(again).toMatchObject({ messageId: locked?.messageId, deliveryCount: 1 });
    await expect(receiver.completeMessage(locked!)).rejects.toMatchObject({ code: 'MessageLockLost' });
    await receiver.completeMessage(again!);
  });

  test('renewMessageLock extends the lock through $management', async () => {
    const topic = topicWithPrinters({ lockDurationMs: 30_000 });
    const sb = client();
    await sb.createSender(topic).sendMessages({ body: 'long job', applicationProperties: { printerId: 'A' } });
    const receiver = sb.createReceiver(topic, 'A', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receive(receiver, 1);
    const lockedUntil = message!.lockedUntilUtc!.getTime(); // renewMessageLock updates the message
    await advanceClock(20_000);
    const renewedUntil = await receiver.renewMessageLock(message!);
    expect(renewedUntil.getTime()).toBeGreaterThan(lockedUntil);
    await advanceClock(20_000); // past the original lock, within the renewed one
    await receiver.completeMessage(message!);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 0, deadLetter: 0 });
  });

  test('reaching the max delivery count moves the message to the dead-letter queue', async () => {
    const topic = topicWithPrinters({ maxDeliveryCount: 2 });
    const sb = client();
    await sb.createSender(topic).sendMessages({ body: 'poison', messageId: 'p1', applicationProperties: { printerId: 'B' } });
    const receiver = sb.createReceiver(topic, 'B');
    for (let attempt = 0; attempt < 2; attempt++) {
      const [message] = await receive(receiver, 1);
      expect(message?.deliveryCount).toBe(attempt);
      await receiver.abandonMessage(message!);
    }
    expect(bus.countMessages(topic, 'B')).toEqual({ active: 0, deadLetter: 1 });
    expect(await receive(receiver, 1, 300)).toEqual([]);
    const [dead] = await receive(sb.createReceiver(topic, 'B', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' }), 1);
    expect(dead).toMatchObject({ messageId: 'p1', deadLetterReason: 'MaxDeliveryCountExceeded' });
  });
});

describe('time to live', () => {
  test('expired messages are never delivered and go to the DLQ when dead-lettering on expiration is on', async () => {
    const topic = topicWithPrinters();
    const quiet = `${topic}-quiet`;
    bus.createSubscription(topic, quiet, {
      deadLetteringOnMessageExpiration: false,
      correlationFilter: { applicationProperties: { printerId: 'A' } },
    });
    const sb = client();
    await sb.createSender(topic).sendMessages([
      { body: 'short', messageId: 'short', timeToLive: 10_000, applicationProperties: { printerId: 'A' } },
      { body: 'long', messageId: 'long', timeToLive: 600_000, applicationProperties: { printerId: 'A' } },
    ]);
    await advanceClock(11_000);
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 1, deadLetter: 1 });
    expect(bus.countMessages(topic, quiet)).toEqual({ active: 1, deadLetter: 0 }); // dropped, not dead-lettered
    const received = await receive(sb.createReceiver(topic, 'A', { receiveMode: 'receiveAndDelete' }), 2, 500);
    expect(received.map((m) => m.messageId)).toEqual(['long']);
    const [dead] = await receive(sb.createReceiver(topic, 'A', { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' }), 1);
    expect(dead).toMatchObject({ messageId: 'short', deadLetterReason: 'TTLExpiredException', timeToLive: 10_000 });
  });

  test("the topic's default time to live applies to messages sent without one", async () => {
    const topic = `ttl-default-${++topicCounter}`;
    bus.createTopic(topic, { defaultMessageTimeToLiveMs: 5_000 });
    bus.createSubscription(topic, 'all');
    await client().createSender(topic).sendMessages({ body: 'x' });
    await advanceClock(6_000);
    expect(bus.countMessages(topic, 'all')).toEqual({ active: 0, deadLetter: 1 });
  });
});

describe('SAS authorisation', () => {
  test('a printer holding only a token scoped to its subscription receives there and nowhere else', async () => {
    const topic = topicWithPrinters();
    await client()
      .createSender(topic)
      .sendMessages(['A', 'B'].map((printerId) => ({ body: printerId, applicationProperties: { printerId } })));

    const token = sasToken(`sb://127.0.0.1:${bus.port}/${topic}/subscriptions/A`, LISTEN, inSeconds(20 * 60));
    const printer = client(sasConnectionString(token), 0);
    const [own] = await receive(printer.createReceiver(topic, 'A', { receiveMode: 'receiveAndDelete' }), 1);
    expect(own?.body).toBe('A');
    await expect(receive(printer.createReceiver(topic, 'B'), 1, 500)).rejects.toMatchObject({ code: 'UnauthorizedAccess' });
    await expect(printer.createSender(topic).sendMessages({ body: 'spoof' })).rejects.toMatchObject({ code: 'UnauthorizedAccess' });
    // Prefix scoping also covers the subscription's own dead-letter queue.
    expect(await receive(printer.createReceiver(topic, 'A', { subQueueType: 'deadLetter' }), 1, 300)).toEqual([]);
    expect(bus.countMessages(topic, 'B')).toEqual({ active: 1, deadLetter: 0 });
  });

  test('an expired token and a forged signature are refused', async () => {
    const topic = topicWithPrinters();
    const resource = `sb://127.0.0.1:${bus.port}/${topic}/subscriptions/A`;
    const expired = sasToken(resource, LISTEN, inSeconds(-1));
    const forged = sasToken(resource, { name: LISTEN.name, key: 'guessed-key' }, inSeconds(600));
    for (const token of [expired, forged]) {
      await expect(receive(client(sasConnectionString(token), 0).createReceiver(topic, 'A'), 1, 500)).rejects.toMatchObject({
        code: 'UnauthorizedAccess',
      });
    }
  });

  test('a token stops authorising once its expiry passes', async () => {
    const topic = topicWithPrinters();
    const token = sasToken(`sb://127.0.0.1:${bus.port}/${topic}`, LISTEN, inSeconds(60));
    const printer = client(sasConnectionString(token), 0);
    expect(await receive(printer.createReceiver(topic, 'A'), 1, 200)).toEqual([]);
    await advanceClock(61_000);
    await expect(receive(printer.createReceiver(topic, 'B'), 1, 500)).rejects.toMatchObject({ code: 'UnauthorizedAccess' });
  });

  test('a Listen-only rule cannot send and a Send-only rule cannot receive', async () => {
    const topic = topicWithPrinters();
    await expect(client(bus.connectionString(LISTEN.name), 0).createSender(topic).sendMessages({ body: 1 })).rejects.toMatchObject({
      code: 'UnauthorizedAccess',
    });
    const api = client(bus.connectionString(SEND.name), 0);
    await api.createSender(topic).sendMessages({ body: 1, applicationProperties: { printerId: 'A' } });
    await expect(receive(api.createReceiver(topic, 'A'), 1, 500)).rejects.toMatchObject({ code: 'UnauthorizedAccess' });
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 1, deadLetter: 0 });
  });
});

describe('outage', () => {
  test('while paused sends fail quickly; after resume the same sender works again', async () => {
    const topic = topicWithPrinters();
    const sender = client().createSender(topic);
    await sender.sendMessages({ body: 'before', applicationProperties: { printerId: 'A' } });
    await bus.pause();
    const started = Date.now();
    await expect(sender.sendMessages({ body: 'during', applicationProperties: { printerId: 'A' } })).rejects.toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(1_000); // refused at once, not after the 3 s operation timeout
    await bus.resume();
    await sender.sendMessages({ body: 'after', applicationProperties: { printerId: 'A' } });
    expect(bus.countMessages(topic, 'A')).toEqual({ active: 2, deadLetter: 0 });
  });

  test('deleting a subscription removes it and its messages', async () => {
    const topic = topicWithPrinters();
    await client()
      .createSender(topic)
      .sendMessages({ body: 1, applicationProperties: { printerId: 'A' } });
    expect(bus.hasSubscription(topic, 'a')).toBe(true); // names are case-insensitive
    expect(bus.deleteSubscription(topic, 'A')).toBe(true);
    expect(bus.hasSubscription(topic, 'A')).toBe(false);
    expect(bus.deleteSubscription(topic, 'A')).toBe(false);
  });
});

/**
 * Wire-level behaviour a client other than the SDK could hit, driven with a bare rhea client:
 * $cbs replies, attach refusal, drain answers, max_message_size.
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import rhea from 'rhea';
import type { AmqpError, Connection, EventContext, Message, Receiver } from 'rhea';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { startLocalServiceBus, type LocalServiceBus } from '../broker.js';

const ROOT = { name: 'root', key: 'root-key', rights: ['Manage'] } as const;
const LISTEN = { name: 'listen', key: 'listen-key', rights: ['Listen'] } as const;

let bus: LocalServiceBus;
let connection: Connection;
let clockOffsetMs = 0;

beforeAll(async () => {
  bus = await startLocalServiceBus({ rules: [ROOT, LISTEN], now: () => Date.now() + clockOffsetMs });
  bus.createTopic('releases');
  bus.createSubscription('releases', 'A');
  bus.createSubscription('releases', 'B');
});

afterEach(async () => {
  if (connection?.is_open()) {
    connection.close();
    await once(connection, 'connection_close');
  }
});

afterAll(async () => {
  await bus.close();
});

async function connect(): Promise<Connection> {
  connection = rhea.create_container().connect({ host: '127.0.0.1', port: bus.port, reconnect: false });
  await once(connection, 'connection_open');
  return connection;
}

function token(resource: string, rule: { name: string; key: string }, expiresInSeconds = 600): string {
  const sr = encodeURIComponent(resource);
  const se = Math.floor((Date.now() + clockOffsetMs) / 1000) + expiresInSeconds;
  const sig = createHmac('sha256', rule.key).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${rule.name}`;
}

/** One put-token round trip, as the SDK's CBS client does it. */
async function putToken(amqp: Connection, audience: string, sas: string): Promise<Record<string, unknown>> {
  const replies = amqp.open_receiver({ name: `cbs-${audience}`, source: { address: '$cbs' } });
  const requests = amqp.open_sender({ target: { address: '$cbs' } });
  await once(requests, 'sendable');
  const id = `put-${Math.random()}`;
  requests.send({
    message_id: id,
    reply_to: `cbs-${audience}`,
    application_properties: { operation: 'put-token', name: audience, type: 'servicebus.windows.net:sastoken' },
    body: sas,
  });
  for (;;) {
    const [context] = (await once(replies, 'message')) as [EventContext];
    const reply = context.message as Message;
    if (reply.correlation_id === id) return reply.application_properties as Record<string, unknown>;
  }
}

/** Resolves with the detach error, or undefined when the link stays attached for 200 ms. */
async function attachOutcome(receiver: Receiver): Promise<AmqpError | undefined> {
  const closed = once(receiver, 'receiver_close').then(() => receiver.error as AmqpError);
  const stayedOpen = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200));
  return Promise.race([closed, stayedOpen]);
}

const uri = (path: string): string => `sb://127.0.0.1:${bus.port}/${path}`;

test('put-token answers 202 for a valid token and 401 for a wrong audience or signature', async () => {
  const amqp = await connect();
  const listenA = token(uri('releases/subscriptions/A'), LISTEN);
  expect(await putToken(amqp, uri('releases/Subscriptions/A'), listenA)).toMatchObject({ 'status-code': 202 });
  expect(await putToken(amqp, uri('releases/Subscriptions/B'), listenA)).toMatchObject({
    'status-code': 401,
    'status-description': expect.stringContaining('InvalidAudience'),
  });
  const forged = token(uri('releases'), { name: ROOT.name, key: 'not-the-key' });
  expect(await putToken(amqp, uri('releases'), forged)).toMatchObject({ 'status-code': 401 });
});

test('an attach no claim covers is answered and then detached with amqp:unauthorized-access', async () => {
  const amqp = await connect();
  const unclaimed = await attachOutcome(amqp.open_receiver({ source: { address: 'releases/Subscriptions/A' }, credit_window: 0 }));
  expect(unclaimed?.condition).toBe('amqp:unauthorized-access');

  expect(await putToken(amqp, uri('releases/Subscriptions/A'), token(uri('releases/subscriptions/A'), LISTEN))).toMatchObject({
    'status-code': 202,
  });
  expect(await attachOutcome(amqp.open_receiver({ source: { address: 'releases/Subscriptions/A' }, credit_window: 0 }))).toBeUndefined();
  // The claim for A does not reach B, even on the same connection.
  const sibling = await attachOutcome(amqp.open_receiver({ source: { address: 'releases/Subscriptions/B' }, credit_window: 0 }));
  expect(sibling?.condition).toBe('amqp:unauthorized-access');
});

test('a claim whose token has expired no longer authorises a new attach', async () => {
  const amqp = await connect();
  const shortLived = token(uri('releases/subscriptions/A'), LISTEN, 60);
  expect(await putToken(amqp, uri('releases/Subscriptions/A'), shortLived)).toMatchObject({ 'status-code': 202 });
  expect(await attachOutcome(amqp.open_receiver({ source: { address: 'releases/Subscriptions/A' }, credit_window: 0 }))).toBeUndefined();
  clockOffsetMs += 61_000;
  const late = await attachOutcome(amqp.open_receiver({ source: { address: 'releases/Subscriptions/A' }, credit_window: 0 }));
  expect(late?.condition).toBe('amqp:unauthorized-access');
});

test('a sender attach carries max_message_size, and a drain with no credit left is still answered', async () => {
  const amqp = await connect();
  expect(await putToken(amqp, uri('releases'), token(uri('releases'), ROOT))).toMatchObject({ 'status-code': 202 });
  const sender = amqp.open_sender({ target: { address: 'releases' } });
  await once(sender, 'sendable');
  expect(sender.max_message_size).toBe(262_144);
  const accepted = once(sender, 'accepted');
  sender.send({ body: 'one', message_id: 'm1' });
  await accepted;

  expect(await putToken(amqp, uri('releases/Subscriptions/A'), token(uri('releases'), ROOT))).toMatchObject({ 'status-code': 202 });
  const receiver = amqp.open_receiver({
    source: { address: 'releases/Subscriptions/A' },
    credit_window: 0,
    autoaccept: false,
    rcv_settle_mode: 1,
  });
  await once(receiver, 'receiver_open');
  const message = once(receiver, 'message');
  receiver.add_credit(1);
  const [delivered] = (await message) as [EventContext];
  expect(delivered.delivery?.tag).toHaveLength(16);
  expect(delivered.message?.message_annotations).toMatchObject({ 'x-opt-sequence-number': 1 });
  // All credit is used: rhea alone would not echo this drain and the SDK would time out after 200 ms.
  const drained = once(receiver, 'receiver_drained');
  receiver.drain_credit();
  await expect(Promise.race([drained.then(() => 'drained'), new Promise((r) => setTimeout(() => r('timeout'), 500))])).resolves.toBe(
    'drained',
  );
});

/**
 * The Standard tier's quotas, enforced by the local broker with the errors Azure gives, so a test
 * of the app would catch a regression that only Azure would otherwise show: 2,000 subscriptions per
 * topic, 10,000 topics and queues per namespace (both refused as the administration client reports
 * a 403: QuotaExceededError), and 256 KB per message or batch (refused on the wire with
 * amqp:link:message-size-exceeded, which the SDK reports as MessageSizeExceeded).
 */
import { createHmac } from 'node:crypto';
import { isServiceBusError, ServiceBusClient } from '@azure/service-bus';
import rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_MESSAGE_SIZE } from '../amqp-encoding.js';
import { QuotaExceededError, STANDARD_TIER_QUOTAS, startLocalServiceBus, type LocalServiceBus } from '../broker.js';

const ROOT = { name: 'RootManageSharedAccessKey', key: 'root-key-0123456789', rights: ['Manage'] } as const;

let bus: LocalServiceBus;
let client: ServiceBusClient;

beforeAll(async () => {
  bus = await startLocalServiceBus({ rules: [ROOT] });
  client = new ServiceBusClient(bus.connectionString(ROOT.name), { retryOptions: { maxRetries: 0, timeoutInMs: 5000 } });
});

afterAll(async () => {
  await client?.close();
  await bus?.close();
});

/** What the administration client's RestError carries for a 403 that is not SubCode 40301. */
function expectQuotaExceeded(run: () => void): QuotaExceededError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(QuotaExceededError);
  expect(thrown).toMatchObject({ name: 'RestError', code: 'QuotaExceededError', statusCode: 403 });
  expect((thrown as Error).message).toMatch(/^SubCode=40300\. /);
  return thrown as QuotaExceededError;
}

describe('subscriptions per topic', () => {
  test('the 2,001st subscription of a topic is refused; deleting one makes room again', async () => {
    bus.createTopic('full');
    for (let i = 0; i < STANDARD_TIER_QUOTAS.subscriptionsPerTopic; i++) bus.createSubscription('full', `s${i}`);
    const error = expectQuotaExceeded(() => bus.createSubscription('full', 'one-more'));
    expect(error.message).toContain("topic 'full' (2000)");
    expect(bus.hasSubscription('full', 'one-more')).toBe(false);

    // Other topics are not affected, and a freed place can be taken.
    bus.createTopic('other');
    bus.createSubscription('other', 'one-more');
    expect(bus.deleteSubscription('full', 's0')).toBe(true);
    bus.createSubscription('full', 'one-more');

    // The full topic still delivers to its subscriptions, over TCP through the SDK.
    bus.createSubscription('other', 'filtered', { correlationFilter: { applicationProperties: { printerId: 'p' } } });
    const sender = client.createSender('full');
    await sender.sendMessages({ body: 'still works', messageId: 'm1' });
    await sender.close();
    expect(bus.countMessages('full', 'one-more').active).toBe(1);
  });
});

describe('topics per namespace', () => {
  test('topic 10,001 is refused', async () => {
    const namespace = await startLocalServiceBus({ rules: [ROOT] }); // a namespace of its own, filled up
    try {
      for (let i = 0; i < STANDARD_TIER_QUOTAS.entitiesPerNamespace; i++) namespace.createTopic(`t${i}`);
      const error = expectQuotaExceeded(() => namespace.createTopic('one-too-many'));
      expect(error.message).toContain('(10000)');
    } finally {
      await namespace.close();
    }
  });
});

describe('message size', () => {
  test('a message over 256 KB is refused with the condition the SDK reports as MessageSizeExceeded', async () => {
    bus.createTopic('sized');
    bus.createSubscription('sized', 'sized');
    const sender = client.createSender('sized');
    try {
      // The SDK checks a batch against the link's max-message-size itself, but sends a single
      // message as it is: the broker must refuse it, as Service Bus does.
      const tooLarge = { body: Buffer.alloc(MAX_MESSAGE_SIZE + 1), messageId: 'big' };
      const error = await sender.sendMessages(tooLarge).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(isServiceBusError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'MessageSizeExceeded' });
      expect(bus.countMessages('sized', 'sized').active).toBe(0);

      // Just under the limit goes through.
      await sender.sendMessages({ body: Buffer.alloc(MAX_MESSAGE_SIZE - 1024), messageId: 'fits' });
      expect(bus.countMessages('sized', 'sized').active).toBe(1);
    } finally {
      await sender.close();
    }
  });

  test('a batch transfer over 256 KB is refused on the wire, whatever the client checked', async () => {
    // A client that ignores the advertised max-message-size (rhea, not the SDK): the broker still refuses.
    const connection = rhea.create_container().connect({
      host: '127.0.0.1',
      port: bus.port,
      reconnect: false,
    });
    try {
      const outcome = await new Promise<unknown>((resolve, reject) => {
        connection.on('connection_error', reject);
        connection.on('connection_open', () => {
          const token = putTokenRequest(bus.port);
          const cbsSender = connection.open_sender('$cbs');
          const cbsReceiver = connection.open_receiver({ name: 'cbs-reply', source: { address: '$cbs' } });
          cbsReceiver.on('message', () => {
            const sender = connection.open_sender('sized');
            sender.once('sendable', () => {
              const inner = rhea.message.encode({ message_id: 'x', body: Buffer.alloc(MAX_MESSAGE_SIZE) });
              const envelope = rhea.message.encode({ body: rhea.message.data_sections([inner]) });
              sender.send(envelope, undefined, 0x80013700);
            });
            sender.on('rejected', (context) => resolve(context.delivery?.remote_state?.error));
            sender.on('accepted', () => resolve('accepted'));
          });
          cbsSender.once('sendable', () => cbsSender.send(token));
        });
      });
      expect(outcome).toMatchObject({ condition: 'amqp:link:message-size-exceeded' });
      expect(bus.countMessages('sized', 'sized').active).toBe(1);
    } finally {
      connection.close();
    }
  });
});

/** A $cbs put-token for the whole namespace, signed with the root rule (as the SDK would send it). */
function putTokenRequest(port: number) {
  const audience = `sb://127.0.0.1:${port}/`;
  const expiry = Math.floor(Date.now() / 1000) + 600;
  const resource = encodeURIComponent(audience);
  const signature = createHmacSignature(`${resource}\n${expiry}`, ROOT.key);
  const token = `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(signature)}&se=${expiry}&skn=${ROOT.name}`;
  return {
    body: token,
    reply_to: 'cbs-reply',
    message_id: 'put-token',
    application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: audience },
  };
}

const createHmacSignature = (text: string, key: string) => createHmac('sha256', key).update(text, 'utf8').digest('base64');

import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';

/**
 * Release messages to printers over Service Bus (docs/flows.md#release-to-printers). The app sends with
 * `@azure/service-bus` — against Azure with its managed identity (azure-messaging.ts), or a
 * local broker with a connection string (the host's adapter, tools/local/): the same client,
 * configured differently. Only the creation of printer subscriptions differs (the
 * administration client speaks HTTPS/ATOM, which no local broker serves), so it sits behind
 * `PrinterSubscriptions`.
 */
export interface PrinterSubscriptions {
  /** The printer's own subscription on `topic`, filtered to its `printerId`; idempotent. TopicFullError when the topic is at its quota. */
  create(topic: string, deviceId: string): Promise<void>;
  /** Idempotent: deleting a missing subscription is not an error. */
  delete(topic: string, deviceId: string): Promise<void>;
}

export interface Messaging {
  /** Where printers connect (AMQP). */
  readonly amqpUrl: string;
  /**
   * The same namespace over AMQP over WebSockets, for printers that may only reach 443
   * (docs/flows.md#amqp-over-websockets): `wss://<namespace>/$servicebus/websocket` in Azure.
   */
  readonly amqpWebSocketUrl: string;
  /** `sb://<host>/`: the start of every SAS resource URI in this namespace. */
  readonly resourceBase: string;
  /** The Listen-only rule whose key signs printer SAS tokens. */
  readonly listenRule: { readonly name: string; readonly key: string };
  readonly subscriptions: PrinterSubscriptions;
  sendBatch(topic: string, messages: readonly ServiceBusMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * The release topics (docs/flows.md#release-to-printers). Service Bus allows 2,000 subscriptions
 * per topic, one per printer, so printers are spread over `releases-00 … releases-NN`
 * (RELEASE_TOPIC_COUNT of them, each up to RELEASE_TOPIC_CAPACITY printers: topic-allocation.ts).
 * Printers enrolled before sharding listen on `releases`, which stays and gets no new printer.
 * Every topic has duplicate detection, so a retried dispatch is harmless. One definition for the
 * local broker and the Bicep templates (infra/app-contract.json is generated from it), so the
 * topics Azure has are the ones the code sends to.
 */
export const releaseTopicSpec = {
  /** Where printers enrolled before sharding stay. */
  legacyTopic: 'releases',
  namePrefix: 'releases-',
  /** Two digits: up to 100 topics (`releases-00` … `releases-99`), the most RELEASE_TOPIC_COUNT allows. */
  nameDigits: 2,
  duplicateDetectionWindowMinutes: 10,
} as const;

/** `releases-00`, `releases-01`, …: the Bicep template names them the same way (padLeft). */
export const releaseTopicName = (index: number) =>
  `${releaseTopicSpec.namePrefix}${String(index).padStart(releaseTopicSpec.nameDigits, '0')}`;

/** The topics new printers are given, in the order they fill up. */
export const shardedReleaseTopics = (count: number): string[] => Array.from({ length: count }, (_, i) => releaseTopicName(i));

/** Every topic a region with `count` sharded topics has: the legacy topic, then the sharded ones. */
export const releaseTopics = (count: number): { name: string; duplicateDetectionWindowMinutes: number }[] =>
  [releaseTopicSpec.legacyTopic, ...shardedReleaseTopics(count)].map((name) => ({
    name,
    duplicateDetectionWindowMinutes: releaseTopicSpec.duplicateDetectionWindowMinutes,
  }));

/**
 * A topic refused a new subscription because it holds as many as Service Bus allows (subscriptions
 * made outside the app's count, or a capacity set above the quota). Both adapters throw it, from
 * the error each gets (isQuotaExceeded); enrollment then marks the topic full and tries the next.
 */
export class TopicFullError extends Error {
  override readonly name = 'TopicFullError';
  constructor(readonly topic: string) {
    super(`release topic '${topic}' has no room for another subscription`);
  }
}

/**
 * Service Bus's answer to an entity past a quota, as the administration client reports it: a
 * RestError with code `QuotaExceededError` (HTTP 403 without SubCode 40301). The local broker
 * throws the same shape (tools/service-bus/entities.ts).
 */
export const isQuotaExceeded = (error: unknown) => (error as { code?: unknown } | null)?.code === 'QuotaExceededError';

/** Subscription settings: dead-letter on expiry, bounded redelivery, auto-delete when idle (docs/flows.md#release-to-printers). */
export const subscriptionDefaults = {
  maxDeliveryCount: 10,
  lockDurationSeconds: 60,
  /** Equal to the printer disconnection period (90 days unused). */
  autoDeleteOnIdleDays: 90,
} as const;

/** A failed send must leave jobs queued quickly, not hang the approval: two tries of 5 s at most. */
export const SEND_RETRY = { maxRetries: 1, retryDelayInMs: 200, timeoutInMs: 5000 } as const;

/**
 * Creating or deleting a printer's subscription (ARM-style HTTP calls of the administration
 * client), bounded like a send: the client's retry policy has no time limit of its own, so each
 * call carries an abort signal that covers its retries too.
 */
export const ADMIN_CALL_TIMEOUT_MS = 10_000;
export const ADMIN_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } as const;

/** Batching and one sender per topic, reused for the life of the process. */
export function createSender(client: ServiceBusClient): Pick<Messaging, 'sendBatch'> & { close(): Promise<void> } {
  const senders = new Map<string, ServiceBusSender>();
  const senderFor = (topic: string) => {
    let sender = senders.get(topic);
    if (!sender) senders.set(topic, (sender = client.createSender(topic)));
    return sender;
  };
  return {
    async sendBatch(topic, messages) {
      const sender = senderFor(topic);
      let batch = await sender.createMessageBatch();
      for (const message of messages) {
        if (batch.tryAddMessage(message)) continue;
        await sender.sendMessages(batch);
        batch = await sender.createMessageBatch();
        if (!batch.tryAddMessage(message)) throw new Error('a release message is larger than a batch');
      }
      if (batch.count > 0) await sender.sendMessages(batch);
    },
    async close() {
      await Promise.all([...senders.values()].map((sender) => sender.close().catch(() => undefined)));
      await client.close();
    },
  };
}

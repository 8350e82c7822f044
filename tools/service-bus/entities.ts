/**
 * Topics and subscriptions: fan-out with correlation filters, duplicate detection, default TTLs.
 * Pure state, no AMQP; the caller passes the clock in.
 */
import type { Message } from 'rhea';
import { MessageQueue } from './message-queue.js';

export interface TopicOptions {
  readonly duplicateDetectionWindowMs?: number;
  readonly defaultMessageTimeToLiveMs?: number;
}

export interface SubscriptionOptions {
  /** Correlation filter on application properties, e.g. { printerId: '<deviceId>' }; a message matches when every listed property equals. */
  readonly correlationFilter?: { readonly applicationProperties: Readonly<Record<string, string>> };
  readonly maxDeliveryCount?: number;
  readonly lockDurationMs?: number;
  readonly deadLetteringOnMessageExpiration?: boolean;
  readonly defaultMessageTimeToLiveMs?: number;
}

/** A message as a sender published it: the fields routing needs, plus the AMQP message to re-send. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly applicationProperties: Readonly<Record<string, unknown>>;
  readonly timeToLiveMs: number | undefined;
  readonly scheduledEnqueueTimeMs: number | undefined;
  readonly amqp: Message;
}

export type SubscriptionQueue = MessageQueue<PublishedMessage>;

const DEFAULT_LOCK_DURATION_MS = 60_000;

/**
 * The Standard tier's quotas that the broker enforces, as Azure documents them (Service Bus
 * quotas: "Number of subscriptions per topic", "Number of topics or queues per namespace",
 * "Message size for a queue, topic, or subscription entity"). The message size is checked on each
 * transfer (topic-receiver.ts) against MAX_MESSAGE_SIZE, which the link also advertises.
 */
export const STANDARD_TIER_QUOTAS = {
  subscriptionsPerTopic: 2000,
  /** Topics and queues together; this broker has no queues. Subscriptions do not count. */
  entitiesPerNamespace: 10_000,
} as const;

/**
 * What Service Bus answers when a quota refuses a new entity: 403 Forbidden, SubCode 40300. The
 * administration client (HTTPS/ATOM) turns it into a RestError with code `QuotaExceededError` and
 * statusCode 403; this error has the same name, code, status and wording, so an adapter tests for
 * one shape, Azure's or the local broker's.
 */
export class QuotaExceededError extends Error {
  override readonly name = 'RestError';
  readonly code = 'QuotaExceededError';
  readonly statusCode = 403;
  constructor(detail: string) {
    super(`SubCode=40300. ${detail}`);
  }
}
const DEFAULT_MAX_DELIVERY_COUNT = 10;

export class Subscription {
  readonly queue: SubscriptionQueue;
  readonly deadLetterQueue: SubscriptionQueue;

  constructor(
    readonly topic: string,
    readonly name: string,
    readonly options: SubscriptionOptions,
  ) {
    const path = `${topic}/Subscriptions/${name}`;
    const lockDurationMs = options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS;
    this.deadLetterQueue = new MessageQueue({
      path: `${path}/$DeadLetterQueue`,
      lockDurationMs,
      maxDeliveryCount: Number.POSITIVE_INFINITY,
      deadLetterOnExpiration: false,
      deadLetterQueue: undefined,
    });
    this.queue = new MessageQueue({
      path,
      lockDurationMs,
      maxDeliveryCount: options.maxDeliveryCount ?? DEFAULT_MAX_DELIVERY_COUNT,
      deadLetterOnExpiration: options.deadLetteringOnMessageExpiration ?? true,
      deadLetterQueue: this.deadLetterQueue,
    });
  }

  /** Correlation filter semantics: every listed property present and equal; no filter = TrueFilter. */
  matches(message: PublishedMessage): boolean {
    const wanted = this.options.correlationFilter?.applicationProperties;
    if (!wanted) return true;
    return Object.entries(wanted).every(([key, value]) => message.applicationProperties[key] === value);
  }
}

export class Topic {
  readonly subscriptions = new Map<string, Subscription>();
  private nextSequenceNumber = 1;
  /** messageId → when it stops counting as a duplicate. */
  private readonly recentMessageIds = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly options: TopicOptions,
  ) {}

  /**
   * Enqueues one published message to every matching subscription. With duplicate detection on,
   * a messageId seen within the window is accepted and silently dropped (Service Bus answers the
   * sender with success, so a retried send is harmless).
   */
  publish(message: PublishedMessage, nowMs: number): void {
    if (this.isDuplicate(message.messageId, nowMs)) return;
    const sequenceNumber = this.nextSequenceNumber++;
    for (const subscription of this.subscriptions.values()) {
      if (!subscription.matches(message)) continue;
      // The shortest of the message's TTL and the entities' defaults wins, as in Service Bus.
      const ttls = [message.timeToLiveMs, this.options.defaultMessageTimeToLiveMs, subscription.options.defaultMessageTimeToLiveMs];
      const defined = ttls.filter((ttl): ttl is number => ttl !== undefined && ttl > 0);
      const timeToLiveMs = defined.length > 0 ? Math.min(...defined) : undefined;
      subscription.queue.enqueue({
        sequenceNumber,
        enqueuedTimeMs: nowMs,
        payload: message,
        timeToLiveMs,
        expiresAtMs: timeToLiveMs === undefined ? undefined : nowMs + timeToLiveMs,
        visibleAtMs: message.scheduledEnqueueTimeMs ?? 0,
        propertyOverrides: {},
        deliveryCount: 0,
        lock: undefined,
      });
    }
  }

  sweep(nowMs: number): void {
    // Insertion order is expiry order (one window per topic, re-inserted on reuse): stop at the first live id.
    for (const [id, until] of this.recentMessageIds) {
      if (until > nowMs) break;
      this.recentMessageIds.delete(id);
    }
    for (const subscription of this.subscriptions.values()) {
      subscription.queue.sweep(nowMs);
      subscription.deadLetterQueue.sweep(nowMs);
    }
  }

  private isDuplicate(messageId: string, nowMs: number): boolean {
    const window = this.options.duplicateDetectionWindowMs;
    if (!window || window <= 0) return false;
    const until = this.recentMessageIds.get(messageId);
    if (until !== undefined && until > nowMs) return true;
    this.recentMessageIds.delete(messageId); // move to the end: keeps the map in expiry order
    this.recentMessageIds.set(messageId, nowMs + window);
    return false;
  }
}

/** Entity names are case-insensitive in Service Bus: keys are lower-cased, names kept as created. */
export class EntityStore {
  private readonly topics = new Map<string, Topic>();

  createTopic(name: string, options: TopicOptions = {}): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`Invalid topic name '${name}'.`);
    if (this.topics.has(name.toLowerCase())) throw new Error(`Topic '${name}' already exists (MessagingEntityAlreadyExists).`);
    if (this.topics.size >= STANDARD_TIER_QUOTAS.entitiesPerNamespace) {
      throw new QuotaExceededError(
        `The maximum number of topics and queues in the namespace (${STANDARD_TIER_QUOTAS.entitiesPerNamespace}) has been reached; topic '${name}' was not created.`,
      );
    }
    this.topics.set(name.toLowerCase(), new Topic(name, options));
  }

  createSubscription(topicName: string, name: string, options: SubscriptionOptions = {}): void {
    const topic = this.requireTopic(topicName);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`Invalid subscription name '${name}'.`);
    if (topic.subscriptions.has(name.toLowerCase())) {
      throw new Error(`Subscription '${topicName}/${name}' already exists (MessagingEntityAlreadyExists).`);
    }
    if (topic.subscriptions.size >= STANDARD_TIER_QUOTAS.subscriptionsPerTopic) {
      throw new QuotaExceededError(
        `The maximum number of subscriptions of topic '${topic.name}' (${STANDARD_TIER_QUOTAS.subscriptionsPerTopic}) has been reached; subscription '${name}' was not created.`,
      );
    }
    topic.subscriptions.set(name.toLowerCase(), new Subscription(topic.name, name, options));
  }

  /** Deleting drops its messages and detaches its receivers (their queues report onDeleted). */
  deleteSubscription(topicName: string, name: string): boolean {
    const topic = this.topics.get(topicName.toLowerCase());
    const subscription = topic?.subscriptions.get(name.toLowerCase());
    if (!topic || !subscription) return false;
    topic.subscriptions.delete(name.toLowerCase());
    subscription.queue.delete();
    subscription.deadLetterQueue.delete();
    return true;
  }

  topic(name: string): Topic | undefined {
    return this.topics.get(name.toLowerCase());
  }

  subscription(topicName: string, name: string): Subscription | undefined {
    return this.topics.get(topicName.toLowerCase())?.subscriptions.get(name.toLowerCase());
  }

  sweep(nowMs: number): void {
    for (const topic of this.topics.values()) topic.sweep(nowMs);
  }

  requireSubscription(topicName: string, name: string): Subscription {
    const subscription = this.subscription(topicName, name);
    if (!subscription) throw new Error(`Subscription '${topicName}/${name}' does not exist.`);
    return subscription;
  }

  private requireTopic(name: string): Topic {
    const topic = this.topic(name);
    if (!topic) throw new Error(`Topic '${name}' does not exist.`);
    return topic;
  }
}

/**
 * One queue of messages with Service Bus peek-lock semantics: a subscription's active queue or
 * its dead-letter queue. Pure state, no AMQP; the caller passes the clock in.
 *
 * Delivery count follows the AMQP header the SDK reads (`deliveryCount` = failed attempts before
 * this one, 0 on the first delivery): an abandon or an expired lock adds one, and reaching the
 * queue's max delivery count moves the message to the dead-letter queue — so with the default of
 * 10 a message is handed out at most 10 times, as in Service Bus.
 */
import { randomUUID } from 'node:crypto';

export interface Lock {
  readonly token: string; // canonical GUID string
  readonly untilMs: number;
}

export interface QueueEntry<P> {
  readonly sequenceNumber: number;
  readonly enqueuedTimeMs: number;
  readonly payload: P;
  /** The effective time-to-live to report in the message header; undefined: never expires. */
  readonly timeToLiveMs: number | undefined;
  /** When the message stops being deliverable; undefined in a dead-letter queue (never expires). */
  readonly expiresAtMs: number | undefined;
  /** Scheduled messages stay invisible until then. */
  readonly visibleAtMs: number;
  /** Application properties set by the broker or a settlement (dead-letter reason, propertiesToModify). */
  propertyOverrides: Readonly<Record<string, unknown>>;
  deliveryCount: number;
  lock: Lock | undefined;
}

export type Settlement =
  | { readonly kind: 'complete' }
  /** countsAsAttempt is false for AMQP `released` (the client never looked at the message). */
  | { readonly kind: 'abandon'; readonly countsAsAttempt: boolean; readonly propertiesToModify?: Readonly<Record<string, unknown>> }
  | {
      readonly kind: 'deadLetter';
      readonly reason: string | undefined;
      readonly description: string | undefined;
      readonly propertiesToModify?: Readonly<Record<string, unknown>>;
    };

export interface QueueConsumer {
  /** Messages may have become available (called in a microtask, coalesced). */
  onAvailable(): void;
  /** The entity was deleted: detach. */
  onDeleted(): void;
}

export interface QueueOptions<P> {
  readonly path: string;
  readonly lockDurationMs: number;
  /** Infinity for a dead-letter queue: Service Bus never moves messages out of one. */
  readonly maxDeliveryCount: number;
  readonly deadLetterOnExpiration: boolean;
  readonly deadLetterQueue: MessageQueue<P> | undefined;
}

export type AcquireMode = 'peekLock' | 'receiveAndDelete';

export class MessageQueue<P> {
  /** Insertion order = sequence order, so iterating hands out the oldest available message first. */
  private readonly entries = new Map<number, QueueEntry<P>>();
  private readonly locked = new Map<string, QueueEntry<P>>();
  private readonly consumers = new Set<QueueConsumer>();
  private notifyScheduled = false;
  private deleted = false;

  constructor(readonly options: QueueOptions<P>) {}

  get path(): string {
    return this.options.path;
  }

  consume(consumer: QueueConsumer): () => void {
    this.consumers.add(consumer);
    return () => this.consumers.delete(consumer);
  }

  enqueue(entry: QueueEntry<P>): void {
    if (this.deleted) return;
    this.entries.set(entry.sequenceNumber, entry);
    this.notifyConsumers();
  }

  /** Next deliverable message: locked for the caller (peekLock) or removed (receiveAndDelete). */
  acquire(nowMs: number, mode: AcquireMode): QueueEntry<P> | undefined {
    for (const entry of this.entries.values()) {
      if (entry.lock) {
        if (entry.lock.untilMs > nowMs) continue;
        this.loseLock(entry, nowMs);
        if (!this.entries.has(entry.sequenceNumber)) continue; // it went to the dead-letter queue
      }
      if (entry.visibleAtMs > nowMs) continue;
      if (this.isExpired(entry, nowMs)) {
        this.expire(entry);
        continue;
      }
      if (mode === 'receiveAndDelete') {
        this.entries.delete(entry.sequenceNumber);
      } else {
        entry.lock = { token: randomUUID(), untilMs: nowMs + this.options.lockDurationMs };
        this.locked.set(entry.lock.token, entry);
      }
      return entry;
    }
    return undefined;
  }

  /** 'lock-lost' when the lock expired (or never existed): Service Bus' MessageLockLost. */
  settle(lockToken: string, settlement: Settlement, nowMs: number): 'ok' | 'lock-lost' {
    const entry = this.locked.get(lockToken);
    if (!entry) return 'lock-lost';
    if (!entry.lock || entry.lock.untilMs <= nowMs) {
      this.loseLock(entry, nowMs);
      return 'lock-lost';
    }
    this.unlock(entry);
    switch (settlement.kind) {
      case 'complete':
        this.entries.delete(entry.sequenceNumber);
        break;
      case 'abandon':
        this.mergeProperties(entry, settlement.propertiesToModify);
        this.afterFailedAttempt(entry, settlement.countsAsAttempt, nowMs);
        break;
      case 'deadLetter':
        this.mergeProperties(entry, settlement.propertiesToModify);
        this.moveToDeadLetter(entry, settlement.reason, settlement.description);
        break;
    }
    return 'ok';
  }

  /** The new locked-until time, or undefined when the lock is already lost. */
  renewLock(lockToken: string, nowMs: number): number | undefined {
    const entry = this.locked.get(lockToken);
    if (!entry?.lock || entry.lock.untilMs <= nowMs) return undefined;
    entry.lock = { token: lockToken, untilMs: nowMs + this.options.lockDurationMs };
    return entry.lock.untilMs;
  }

  /**
   * Applies lock expiry and TTL; called periodically and before counting. Also wakes consumers
   * when something is deliverable, which is how scheduled messages reach a waiting receiver.
   */
  sweep(nowMs: number): void {
    let deliverable = false;
    for (const entry of this.entries.values()) {
      if (entry.lock) {
        if (entry.lock.untilMs <= nowMs) this.loseLock(entry, nowMs);
      } else if (this.isExpired(entry, nowMs)) {
        this.expire(entry);
      } else if (entry.visibleAtMs <= nowMs) {
        deliverable = true;
      }
    }
    if (deliverable && this.consumers.size > 0) this.notifyConsumers();
  }

  /** Messages waiting for a receiver: not locked, not expired, not scheduled for later. */
  availableCount(nowMs: number): number {
    this.sweep(nowMs);
    let count = 0;
    for (const entry of this.entries.values()) if (!entry.lock && entry.visibleAtMs <= nowMs) count++;
    return count;
  }

  delete(): void {
    this.deleted = true;
    this.entries.clear();
    this.locked.clear();
    for (const consumer of [...this.consumers]) consumer.onDeleted();
    this.consumers.clear();
  }

  private isExpired(entry: QueueEntry<P>, nowMs: number): boolean {
    return entry.expiresAtMs !== undefined && entry.expiresAtMs <= nowMs;
  }

  private unlock(entry: QueueEntry<P>): void {
    if (entry.lock) this.locked.delete(entry.lock.token);
    entry.lock = undefined;
  }

  /** An expired lock counts as a failed delivery attempt, like an abandon. */
  private loseLock(entry: QueueEntry<P>, nowMs: number): void {
    this.unlock(entry);
    this.afterFailedAttempt(entry, true, nowMs);
  }

  private afterFailedAttempt(entry: QueueEntry<P>, countsAsAttempt: boolean, nowMs: number): void {
    if (countsAsAttempt) entry.deliveryCount++;
    if (entry.deliveryCount >= this.options.maxDeliveryCount) {
      this.moveToDeadLetter(
        entry,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.options.maxDeliveryCount} delivery attempts.`,
      );
    } else if (this.isExpired(entry, nowMs)) {
      this.expire(entry);
    } else {
      this.notifyConsumers();
    }
  }

  private expire(entry: QueueEntry<P>): void {
    if (this.options.deadLetterOnExpiration && this.options.deadLetterQueue) {
      this.moveToDeadLetter(entry, 'TTLExpiredException', 'The message expired and was dead lettered.');
    } else {
      this.entries.delete(entry.sequenceNumber);
    }
  }

  /** The SDK reads deadLetterReason/Description from these two application properties. */
  private moveToDeadLetter(entry: QueueEntry<P>, reason: string | undefined, description: string | undefined): void {
    const target = this.options.deadLetterQueue;
    if (!target) {
      // A dead-letter queue has no dead-letter queue of its own: the message stays where it is.
      this.notifyConsumers();
      return;
    }
    this.entries.delete(entry.sequenceNumber);
    const overrides: Record<string, unknown> = { ...entry.propertyOverrides };
    if (reason !== undefined) overrides.DeadLetterReason = reason;
    if (description !== undefined) overrides.DeadLetterErrorDescription = description;
    target.enqueue({
      sequenceNumber: entry.sequenceNumber,
      enqueuedTimeMs: entry.enqueuedTimeMs,
      payload: entry.payload,
      timeToLiveMs: entry.timeToLiveMs,
      expiresAtMs: undefined,
      visibleAtMs: 0,
      propertyOverrides: overrides,
      deliveryCount: entry.deliveryCount,
      lock: undefined,
    });
  }

  private mergeProperties(entry: QueueEntry<P>, properties: Readonly<Record<string, unknown>> | undefined): void {
    if (properties && Object.keys(properties).length > 0) {
      entry.propertyOverrides = { ...entry.propertyOverrides, ...properties };
    }
  }

  private notifyConsumers(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      for (const consumer of [...this.consumers]) consumer.onAvailable();
    });
  }
}

/**
 * The broker's end of a client receiver on a subscription (or its dead-letter queue): hands out
 * messages against the client's credit, answers drains, and turns the client's dispositions into
 * settlements with a settled reply.
 */
import { randomUUID } from 'node:crypto';
import type { Delivery, EventContext, Sender } from 'rhea';
import { encodeForDelivery, lockTokenToTag, settlementFor, tagToLockToken, type ClientOutcome } from './amqp-encoding.js';
import type { SubscriptionQueue } from './entities.js';
import type { AcquireMode, QueueConsumer } from './message-queue.js';
import { answerDrain, isDraining, outcome as describedOutcome, rejectedOutcome, settleOutgoing, usableCredit } from './rhea-internals.js';

const OUTCOMES: readonly ClientOutcome[] = ['accepted', 'rejected', 'modified', 'released'];

/**
 * The settled reply echoes the client's outcome, minus any error: the SDK turns an error in the
 * reply's state into a failed settlement, and a dead-letter request is itself a `rejected` with
 * an error (com.microsoft:dead-letter).
 */
function echoOf(outcome: ClientOutcome, state: Delivery['remote_state']): unknown {
  if (outcome !== 'modified') return describedOutcome(outcome);
  return describedOutcome('modified', { delivery_failed: state?.delivery_failed, undeliverable_here: state?.undeliverable_here });
}

export class SubscriptionSender implements QueueConsumer {
  private readonly stopConsuming: () => void;
  private detached = false;

  constructor(
    private readonly sender: Sender,
    private readonly queue: SubscriptionQueue,
    /** receiveAndDelete when the client asked for pre-settled deliveries (snd-settle-mode settled). */
    private readonly mode: AcquireMode,
    private readonly now: () => number,
  ) {
    this.stopConsuming = queue.consume(this);
    sender.on('sender_flow', () => this.onFlow());
    for (const outcome of OUTCOMES) {
      sender.on(outcome, (context: EventContext) => this.onOutcome(outcome, context.delivery));
    }
  }

  onAvailable(): void {
    this.pump();
  }

  onDeleted(): void {
    if (this.detached) return;
    this.sender.close({ condition: 'amqp:not-found', description: `The messaging entity '${this.queue.path}' was deleted.` });
    this.detach();
  }

  /** The link or its connection went away. Locks it held stay until they expire, as in Service Bus. */
  detach(): void {
    this.detached = true;
    this.stopConsuming();
  }

  private pump(): void {
    while (!this.detached && this.sender.is_open() && usableCredit(this.sender) > 0) {
      const entry = this.queue.acquire(this.now(), this.mode);
      if (!entry) return;
      // Pre-settled deliveries still get a unique 16-byte tag: the SDK derives lockToken from it.
      const tag = lockTokenToTag(entry.lock?.token ?? randomUUID());
      this.sender.send(encodeForDelivery(entry, entry.lock?.untilMs), tag, 0);
    }
  }

  private onFlow(): void {
    this.pump();
    if (isDraining(this.sender)) answerDrain(this.sender);
  }

  /**
   * The SDK settles with an unsettled disposition and waits (up to its operation timeout) for a
   * settled one back; an error in that reply's state rejects the SDK's complete()/abandon()/….
   */
  private onOutcome(outcome: ClientOutcome, delivery: Delivery | undefined): void {
    if (!delivery || this.mode === 'receiveAndDelete') return;
    const settlement = settlementFor(outcome, delivery.remote_state);
    if (settlement === 'defer') {
      settleOutgoing(delivery, rejectedOutcome('amqp:not-implemented', 'The local broker does not support deferral.'));
      return;
    }
    const lockToken = tagToLockToken(delivery.tag);
    const result = lockToken === undefined ? 'lock-lost' : this.queue.settle(lockToken, settlement, this.now());
    if (result === 'ok') {
      settleOutgoing(delivery, echoOf(outcome, delivery.remote_state));
    } else {
      settleOutgoing(
        delivery,
        rejectedOutcome(
          'com.microsoft:message-lock-lost',
          'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
        ),
      );
    }
  }
}

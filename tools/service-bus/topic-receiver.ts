/**
 * The broker's end of a client sender on a topic: every transfer (one message or a batch) is
 * published as a whole and answered accepted, or rejected with the AMQP error the SDK translates.
 */
import type { EventContext, Message, Receiver } from 'rhea';
import rhea from 'rhea';
import { decodeTransfer, MalformedMessageError, MAX_MESSAGE_SIZE, toPublished } from './amqp-encoding.js';
import type { EntityStore } from './entities.js';

/** Credit granted to senders, topped up when half is used (the SDK waits for credit before sending). */
const CREDIT_WINDOW = 1000;

export class TopicReceiver {
  private credit = 0;

  constructor(
    private readonly receiver: Receiver,
    private readonly topicName: string,
    private readonly store: EntityStore,
    private readonly now: () => number,
  ) {
    receiver.on('message', (context: EventContext) => this.onMessage(context));
    this.topUpCredit();
  }

  private onMessage(context: EventContext): void {
    this.credit--;
    this.topUpCredit();
    const delivery = context.delivery;
    if (!delivery) return;
    const topic = this.store.topic(this.topicName);
    if (!topic) {
      delivery.reject({ condition: 'amqp:not-found', description: `The messaging entity '${this.topicName}' could not be found.` });
      return;
    }
    // Standard tier: 256 KB per message, and per batch (the SDK sends a batch as one transfer).
    // Service Bus refuses more with this condition, which the SDK reports as MessageSizeExceeded.
    const size = transferSize(context.message as Message | Buffer);
    if (size > MAX_MESSAGE_SIZE) {
      delivery.reject({
        condition: 'amqp:link:message-size-exceeded',
        description: `The received message (${size} bytes) exceeds the limit (${MAX_MESSAGE_SIZE} bytes) currently allowed on the link.`,
      });
      return;
    }
    let messages: Message[];
    try {
      // For a non-zero message format rhea hands over the raw bytes instead of a decoded message.
      messages = decodeTransfer(context.message as Message | Buffer, delivery.format);
    } catch (error) {
      const description = error instanceof MalformedMessageError ? error.message : 'The message could not be decoded.';
      delivery.reject({ condition: 'amqp:decode-error', description });
      return;
    }
    const now = this.now();
    try {
      for (const message of messages) topic.publish(toPublished(message), now);
    } catch (error) {
      // Never let one odd message throw inside rhea's frame handler (that would drop the connection).
      delivery.reject({ condition: 'amqp:internal-error', description: error instanceof Error ? error.message : 'Publishing failed.' });
      return;
    }
    delivery.accept();
  }

  private topUpCredit(): void {
    if (this.credit >= CREDIT_WINDOW / 2) return;
    this.receiver.add_credit(CREDIT_WINDOW - this.credit);
    this.credit = CREDIT_WINDOW;
  }
}

/**
 * The transfer's size as sent: rhea hands over the raw bytes of a batch (format 0x80013700) and
 * a decoded message otherwise, which is encoded again to measure it (the same bytes, give or take
 * how rhea encodes a few fields).
 */
function transferSize(payload: Message | Buffer): number {
  if (Buffer.isBuffer(payload)) return payload.length;
  try {
    return rhea.message.encode(payload).length;
  } catch {
    return 0; // left to decodeTransfer, which says what is wrong with it
  }
}

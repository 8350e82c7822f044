/**
 * The broker's end of a client sender on a topic: every transfer (one message or a batch) is
 * published as a whole and answered accepted, or rejected with the AMQP error the SDK translates.
 */
import type { EventContext, Message, Receiver } from 'rhea';
import { decodeTransfer, MalformedMessageError, toPublished } from './amqp-encoding.js';
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

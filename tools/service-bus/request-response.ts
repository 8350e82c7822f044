/**
 * Request/response nodes ($cbs, <entity>/$management): the client sends requests on one link and
 * names its receiver link in `reply_to`; the reply goes out on the broker's end of that link.
 */
import rhea from 'rhea';
import type { EventContext, Message, Receiver, Sender } from 'rhea';

const CREDIT = 100;

/** Accepts each request, hands it to `handle`, and sends back whatever reply it returns. */
export function serveRequests(receiver: Receiver, handle: (request: Message) => Record<string, unknown>): void {
  let credit = CREDIT;
  receiver.add_credit(CREDIT);
  receiver.on('message', (context: EventContext) => {
    const request = context.message;
    context.delivery?.accept();
    if (--credit < CREDIT / 2) {
      receiver.add_credit(CREDIT - credit);
      credit = CREDIT;
    }
    if (!request) return;
    const replyTo: unknown = request.reply_to;
    if (typeof replyTo !== 'string') return; // nowhere to answer
    const replyLink = receiver.connection.find_sender((s: Sender) => s.name === replyTo && s.is_open()) as Sender | undefined;
    replyLink?.send(rhea.message.encode(handle(request)), undefined, 0);
  });
}

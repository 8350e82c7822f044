/**
 * The few rhea internals the broker has to touch, behind one typed view so that the casts live in
 * one place. rhea 3.0.5 is pinned in package.json; re-check these fields when it changes.
 */
import type { Socket } from 'node:net';
import rhea from 'rhea';
import type { ConnectionOptions, Container, Delivery, link, Sender } from 'rhea';

/** Fields rhea keeps on a sender link but leaves out of its typings. */
interface SenderInternals {
  credit: number;
  delivery_count: number;
  issue_flow: boolean;
  /** Set by rhea from the peer's last flow frame. */
  _draining: boolean;
  /** rhea asks this when it writes a flow frame: true puts drain=true on it. */
  _get_drain(): boolean;
  session: { outgoing: { next_delivery_id: number; next_pending_delivery: number } };
  connection: { _register(): void };
}

/** Outgoing deliveries carry this flag; rhea only frees a delivery once both ends settled it. */
interface DeliveryInternals {
  remote_settled: boolean;
}

type OutcomeFactory = (fields?: Record<string, unknown>) => { described(): unknown };
type OutcomeName = 'accepted' | 'rejected' | 'modified' | 'released';

/** Attach fields rhea copies from link options but offers no setter for. */
export interface AttachReply {
  max_message_size?: number;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
}

/**
 * Fill in the attach frame rhea is about to send back for a link the client opened (rhea answers
 * an attach itself, on the next tick, with whatever its local attach holds).
 */
export function setAttachReply(amqpLink: link, fields: AttachReply): void {
  const local = (amqpLink as unknown as { local: { attach: AttachReply } }).local.attach;
  Object.assign(local, fields);
}

function internals(sender: Sender): SenderInternals {
  return sender as unknown as SenderInternals;
}

/**
 * Credit the broker may still use on a sender: rhea only counts a delivery against the link's
 * credit once it writes the transfer (on the next tick), so deliveries queued in this tick but not
 * yet written must be subtracted, or the broker would lock more messages than the client asked for.
 * The SDK opens one session per link, so the session's unwritten deliveries are this link's.
 */
export function usableCredit(sender: Sender): number {
  const s = internals(sender);
  const unwritten = s.session.outgoing.next_delivery_id - s.session.outgoing.next_pending_delivery;
  return Math.max(0, s.credit - unwritten);
}

export function isDraining(sender: Sender): boolean {
  return internals(sender)._draining;
}

/**
 * Answer a drain request even when no credit is left. rhea only echoes drain=true when credit
 * remains after sending (`_draining && _drained && credit`), but the SDK's batching receiver waits
 * for that echo, and closes the link 200 ms later without it. rhea writes pending transfers before
 * the flow frame in the same pass, so the credit consumed here is exactly what was not used.
 */
export function answerDrain(sender: Sender): void {
  const s = internals(sender);
  s._get_drain = function getDrain(this: SenderInternals): boolean {
    if (!this._draining) return false;
    this.delivery_count += this.credit;
    this.credit = 0;
    this._draining = false;
    return true;
  };
  s.issue_flow = true;
  s.connection._register();
}

/**
 * Settle a delivery the broker sent, in reply to the client's (unsettled) disposition. In
 * rcv-settle-mode "second" the client never settles after us, so the delivery is marked done on
 * both ends here; otherwise rhea would keep it in the session's 2048-slot buffer forever and a
 * long-lived receiver link would stall.
 */
export function settleOutgoing(delivery: Delivery, state: unknown): void {
  delivery.update(true, state);
  (delivery as unknown as DeliveryInternals).remote_settled = true;
}

/**
 * A described delivery outcome (rhea builds them but does not type the factories). A settled
 * disposition should carry one: rhea on the client logs "unrecognised outcome" for a bare one.
 */
export function outcome(name: OutcomeName, fields: Record<string, unknown> = {}): unknown {
  const factories = rhea.message as unknown as Record<OutcomeName, OutcomeFactory>;
  return factories[name](fields).described();
}

export function rejectedOutcome(condition: string, description: string): unknown {
  return outcome('rejected', { error: { condition, description } });
}

/**
 * Serve an AMQP connection on a socket the broker accepted itself (websocket.ts sniffs the first
 * bytes before it knows the protocol), exactly as rhea's own listen() does with the sockets of
 * its server; rhea's typings leave Connection.accept out.
 */
export function acceptAmqpSocket(container: Container, options: object, socket: Socket): void {
  (container.create_connection(options as ConnectionOptions) as unknown as { accept(socket: Socket): void }).accept(socket);
}

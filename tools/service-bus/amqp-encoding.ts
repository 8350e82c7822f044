/**
 * Turning AMQP transfers into published messages and queue entries back into AMQP messages, with
 * the annotations and header the SDK reads.
 */
import { randomUUID } from 'node:crypto';
import rhea from 'rhea';
import type { Delivery, Message } from 'rhea';
import type { PublishedMessage } from './entities.js';
import type { QueueEntry, Settlement } from './message-queue.js';

/**
 * `sendMessages(batch)` and `sendMessages([…])` send one transfer with this message format: an
 * envelope whose body is a series of data sections, each holding one complete encoded message.
 */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** Announced on attach (Standard tier's 256 KB); createMessageBatch() fails without it. */
export const MAX_MESSAGE_SIZE = 262_144;

const DATA_SECTION = 0x75;
const MAX_UINT = 0xffff_ffff;

/** rhea's (untyped) representation of a body made of data sections. */
interface BodySection {
  readonly typecode: number;
  readonly content: unknown;
  readonly multiple?: boolean;
}

function isBodySection(body: unknown): body is BodySection {
  return typeof body === 'object' && body !== null && typeof (body as { typecode?: unknown }).typecode === 'number';
}

export class MalformedMessageError extends Error {}

/**
 * The messages carried by one transfer. rhea decodes format-0 transfers itself and hands other
 * formats over as raw bytes.
 */
export function decodeTransfer(payload: Message | Buffer, format: number): Message[] {
  if (format === 0 && !Buffer.isBuffer(payload)) return [payload];
  if (format !== BATCH_MESSAGE_FORMAT || !Buffer.isBuffer(payload)) {
    throw new MalformedMessageError(`Unsupported message format 0x${format.toString(16)}.`);
  }
  const envelope = decodeMessage(payload);
  const body: unknown = envelope.body;
  if (!isBodySection(body) || body.typecode !== DATA_SECTION) {
    throw new MalformedMessageError('A batch must carry its messages in data sections.');
  }
  const parts: unknown[] = body.multiple ? (body.content as unknown[]) : [body.content];
  return parts.map((part) => {
    if (!Buffer.isBuffer(part)) throw new MalformedMessageError('A batch data section must hold an encoded message.');
    return decodeMessage(part);
  });
}

/** rhea types its decoder's result apart from the Message its links use; they are the same object. */
function decodeMessage(bytes: Buffer): Message {
  return rhea.message.decode(bytes) as unknown as Message;
}

function messageIdText(id: unknown): string | undefined {
  if (typeof id === 'string') return id;
  if (typeof id === 'number') return String(id);
  if (Buffer.isBuffer(id) && id.length === 16) return rhea.uuid_to_string(id); // AMQP uuid
  if (Buffer.isBuffer(id)) return id.toString('hex');
  return undefined;
}

/**
 * A message as the broker keeps it. A message without an id gets one, as Service Bus does: the
 * SDK's lock renewer keys its timers by messageId and throws on a message without one.
 */
export function toPublished(amqp: Message): PublishedMessage {
  let messageId = messageIdText(amqp.message_id);
  if (messageId === undefined) {
    messageId = randomUUID().replace(/-/g, '');
    amqp.message_id = messageId;
  }
  const properties: unknown = amqp.application_properties;
  const scheduled: unknown = (amqp.message_annotations as Record<string, unknown> | undefined)?.['x-opt-scheduled-enqueue-time'];
  return {
    messageId,
    applicationProperties: typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>) : {},
    timeToLiveMs: typeof amqp.ttl === 'number' && amqp.ttl > 0 ? amqp.ttl : undefined,
    scheduledEnqueueTimeMs: scheduled instanceof Date ? scheduled.getTime() : undefined,
    amqp,
  };
}

/**
 * The bytes of one delivery to a receiver: the sender's message with the broker's header and
 * annotations. The SDK needs x-opt-sequence-number (as a long), x-opt-enqueued-time and, in
 * peek-lock, x-opt-locked-until (its lock renewer reads it), and header delivery_count.
 */
export function encodeForDelivery(entry: QueueEntry<PublishedMessage>, lockedUntilMs: number | undefined): Buffer {
  const source = entry.payload.amqp;
  const annotations: Record<string, unknown> = {
    ...(source.message_annotations as Record<string, unknown> | undefined),
    'x-opt-sequence-number': rhea.types.wrap_long(entry.sequenceNumber),
    'x-opt-enqueued-time': new Date(entry.enqueuedTimeMs),
  };
  if (lockedUntilMs !== undefined) annotations['x-opt-locked-until'] = new Date(lockedUntilMs);
  const outgoing: Record<string, unknown> = {
    ...source,
    delivery_annotations: undefined, // hop-by-hop: never forwarded
    message_annotations: annotations,
    delivery_count: entry.deliveryCount,
  };
  if (entry.timeToLiveMs !== undefined && entry.timeToLiveMs <= MAX_UINT) outgoing.ttl = entry.timeToLiveMs;
  if (Object.keys(entry.propertyOverrides).length > 0) {
    outgoing.application_properties = {
      ...(source.application_properties as Record<string, unknown> | undefined),
      ...entry.propertyOverrides,
    };
  }
  return rhea.message.encode(outgoing);
}

/**
 * Lock tokens travel as 16-byte delivery tags in .NET Guid byte order (Guid.ToByteArray(): the
 * first three groups little-endian). The SDK reorders a tag back into the canonical GUID for
 * `message.lockToken`, and sends it to $management as an AMQP uuid in RFC 4122 (network) order —
 * so a broker that used tags in network order would see renew-lock ask for a different token.
 * The permutation is its own inverse.
 */
const DOTNET_GUID_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15] as const;

function permute(bytes: Buffer): Buffer {
  return Buffer.from(DOTNET_GUID_ORDER.map((i) => bytes[i] ?? 0));
}

export function lockTokenToTag(lockToken: string): Buffer {
  return permute(Buffer.from(lockToken.replace(/-/g, ''), 'hex'));
}

export function tagToLockToken(tag: Buffer | string): string | undefined {
  const bytes = typeof tag === 'string' ? Buffer.from(tag) : tag;
  return bytes.length === 16 ? rhea.uuid_to_string(permute(bytes)) : undefined;
}

/** A lock token sent as an AMQP uuid (network byte order), as in $management requests. */
export function uuidToLockToken(uuid: Buffer): string | undefined {
  return uuid.length === 16 ? rhea.uuid_to_string(uuid) : undefined;
}

/** What the SDK's settlement calls look like on the wire (see the SDK's messageReceiver.settleMessage). */
export type ClientOutcome = 'accepted' | 'rejected' | 'modified' | 'released';

export function settlementFor(outcome: ClientOutcome, state: Delivery['remote_state']): Settlement | 'defer' {
  switch (outcome) {
    case 'accepted':
      return { kind: 'complete' };
    case 'released':
      return { kind: 'abandon', countsAsAttempt: false };
    case 'modified': {
      const annotations = state?.message_annotations as Record<string, unknown> | undefined;
      // abandon = modified{undeliverable_here: false}; defer = modified{undeliverable_here: true}.
      if (state?.undeliverable_here === true) return 'defer';
      return { kind: 'abandon', countsAsAttempt: true, ...(annotations ? { propertiesToModify: annotations } : {}) };
    }
    case 'rejected': {
      // deadLetter = rejected{ condition 'com.microsoft:dead-letter', info: { DeadLetterReason, DeadLetterErrorDescription, …propertiesToModify } }.
      const error = state?.error as { info?: Record<string, unknown> } | undefined;
      const { DeadLetterReason, DeadLetterErrorDescription, ...rest } = error?.info ?? {};
      return {
        kind: 'deadLetter',
        reason: typeof DeadLetterReason === 'string' ? DeadLetterReason : undefined,
        description: typeof DeadLetterErrorDescription === 'string' ? DeadLetterErrorDescription : undefined,
        propertiesToModify: rest,
      };
    }
  }
}

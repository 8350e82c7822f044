/**
 * The `<entity>/$management` request/response node, reduced to what a peek-lock consumer hits by
 * itself: renew-lock, which the SDK's auto lock renewer calls shortly before a lock expires. Other
 * operations (peek, schedule, deferral, sessions, rules) answer 501. Replies use the camelCase
 * `statusCode`/`statusDescription` properties, unlike $cbs.
 */
import type { Message } from 'rhea';
import { uuidToLockToken } from './amqp-encoding.js';
import type { SubscriptionQueue } from './entities.js';

const RENEW_LOCK = 'com.microsoft:renew-lock';

function reply(request: Message, statusCode: number, description: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    correlation_id: request.message_id,
    to: request.reply_to,
    application_properties: { statusCode, statusDescription: description, ...extra },
  };
}

export function handleManagementRequest(request: Message, queue: SubscriptionQueue, nowMs: number): Record<string, unknown> {
  const operation = (request.application_properties as Record<string, unknown> | undefined)?.operation;
  if (operation !== RENEW_LOCK) {
    return reply(request, 501, `The local broker does not implement '${String(operation)}'.`, { errorCondition: 'amqp:not-implemented' });
  }
  const tokens: unknown = (request.body as Record<string, unknown> | undefined)?.['lock-tokens'];
  if (!Array.isArray(tokens)) return reply(request, 400, 'lock-tokens is required.', { errorCondition: 'amqp:invalid-field' });
  const expirations: Date[] = [];
  for (const token of tokens) {
    const lockToken = Buffer.isBuffer(token) ? uuidToLockToken(token) : undefined;
    const until = lockToken === undefined ? undefined : queue.renewLock(lockToken, nowMs);
    if (until === undefined) {
      return reply(
        request,
        410,
        'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
        {
          errorCondition: 'com.microsoft:message-lock-lost',
        },
      );
    }
    expirations.push(new Date(until));
  }
  return { ...reply(request, 200, 'OK'), body: { expirations } };
}

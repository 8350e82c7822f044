/**
 * Link addresses as the SDK writes them: `<topic>`, `<topic>/Subscriptions/<name>`,
 * `<topic>/Subscriptions/<name>/$DeadLetterQueue`, `<entity>/$management`, and `$cbs`.
 * Service Bus entity names and these path words are case-insensitive.
 */
import type { Right } from './sas.js';

export type EntityAddress =
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'subscription'; readonly topic: string; readonly subscription: string; readonly deadLetter: boolean };

export type LinkAddress =
  | { readonly kind: 'cbs' }
  | { readonly kind: 'entity'; readonly entity: EntityAddress }
  | { readonly kind: 'management'; readonly entity: EntityAddress };

/** Strips `amqp[s]://host/` (some clients send full URIs) and leading slashes. */
function entityPathOf(address: string): string {
  return address.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '').replace(/^\/+/, '');
}

function parseEntity(segments: readonly string[]): EntityAddress | undefined {
  const [topic, word, subscription, queue, ...rest] = segments;
  if (!topic || rest.length > 0) return undefined;
  if (word === undefined) return { kind: 'topic', topic };
  if (word.toLowerCase() !== 'subscriptions' || !subscription) return undefined;
  if (queue === undefined) return { kind: 'subscription', topic, subscription, deadLetter: false };
  if (queue.toLowerCase() !== '$deadletterqueue') return undefined;
  return { kind: 'subscription', topic, subscription, deadLetter: true };
}

export function parseLinkAddress(address: string | undefined): LinkAddress | undefined {
  if (!address) return undefined;
  const segments = entityPathOf(address).split('/');
  if (segments.length === 1 && segments[0]?.toLowerCase() === '$cbs') return { kind: 'cbs' };
  if (segments[segments.length - 1]?.toLowerCase() === '$management') {
    const entity = parseEntity(segments.slice(0, -1));
    return entity && { kind: 'management', entity };
  }
  const entity = parseEntity(segments);
  return entity && { kind: 'entity', entity };
}

/** Senders need Send on a topic; receivers (and their $management) need Listen on a subscription. */
export function rightNeeded(entity: EntityAddress): Right {
  return entity.kind === 'topic' ? 'Send' : 'Listen';
}

/**
 * The URI a token must prefix to authorise this address: `sb://<host>:<port>/<path as sent>`.
 * The host is the one the client put in its AMQP open frame (the SDK sends its endpoint's host),
 * and the port is the broker's, because the SDK's audience `<Endpoint>/<entity path>` keeps the
 * `:<port>` of the connection string's Endpoint.
 */
export function entityUri(host: string, port: number, address: string): string {
  return `sb://${host}:${port}/${entityPathOf(address)}`;
}

import type { Store } from './store/store.js';

/**
 * Fixed-window counters in Cosmos, shared by every instance (an in-memory counter would let an
 * attacker spread guesses over instances). Approximate under races by design: a lost update
 * only lets one extra attempt through.
 */
interface Counter {
  readonly id: string;
  readonly windowStart: string;
  readonly count: number;
  readonly ttl: number;
  readonly _etag?: string;
}

async function readCounter(store: Store, key: string, windowSeconds: number, now: Date): Promise<Counter | undefined> {
  const { resource } = await store.container('rateLimits').item(key, key).read<Counter>();
  if (!resource || Date.parse(resource.windowStart) + windowSeconds * 1000 <= now.getTime()) return undefined;
  return resource;
}

export async function isRateLimited(store: Store, key: string, limit: number, windowSeconds: number, now: Date) {
  return ((await readCounter(store, key, windowSeconds, now))?.count ?? 0) >= limit;
}

export async function countAttempt(store: Store, key: string, windowSeconds: number, now: Date): Promise<void> {
  const current = await readCounter(store, key, windowSeconds, now);
  const next: Counter = current
    ? { id: key, windowStart: current.windowStart, count: current.count + 1, ttl: windowSeconds }
    : { id: key, windowStart: now.toISOString(), count: 1, ttl: windowSeconds };
  await store.container('rateLimits').items.upsert(next);
}

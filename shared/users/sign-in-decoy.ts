import type { Store } from '../store/store.js';

/**
 * What a sign-in with a name nobody has reads and writes in place of the user's item, so that
 * it makes the same requests as a known name with a wrong secret, and takes as long: the answer
 * must not reveal whether a user exists (docs/security.md#lockout), and an attacker times answers.
 *
 * One small item per tenant among the short-lived counters, overwritten in place and gone an
 * hour after the last such attempt (item TTL): it names nobody, and trying more names does not
 * make more of it. Upserted, not replaced on an ETag, so concurrent misses never conflict.
 */
const DECOY_TTL_SECONDS = 3600;
const decoyId = (tenantId: string) => `sign-in-decoy|${tenantId}`;

/** The point read a known name would spend on its user item. */
export async function readSignInDecoy(store: Store, tenantId: string): Promise<void> {
  const id = decoyId(tenantId);
  await store.container('rateLimits').item(id, id).read();
}

/** The write a known name would spend recording the failed attempt on its user item. */
export async function writeSignInDecoy(store: Store, tenantId: string): Promise<void> {
  await store.container('rateLimits').items.upsert({ id: decoyId(tenantId), ttl: DECOY_TTL_SECONDS });
}

import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { Logger } from '../logging/logger.js';
import { linkOwner } from '../onedrive/links.js';
import type { TokenCipher } from '../onedrive/token-cipher.js';
import { isConflict, isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';

/**
 * A Microsoft user's MSAL token cache (their Entra refresh token, id_token and access tokens), as
 * MSAL serializes it, sealed with the OneDrive key ring bound to its owner (a cache copied onto
 * another user's item does not open), in one item per user in the accounts container:
 * `msal:<userId>`, partition tenantId. MSAL reads it before and writes it after each use
 * (ICachePlugin); the write is conditional on the ETag read, so of two instances refreshing one
 * user at once, one writes and the other keeps what is there: Entra leaves a rotated-away
 * refresh token valid, so the stored cache still works. Erasure deletes it (data-rights.ts).
 */
export interface UserTokenCacheDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'msal-cache';
  readonly userId: string;
  readonly sealed: string;
  readonly updatedAt: string;
  readonly _etag?: string;
}

export const userTokenCacheId = (userId: string) => `msal:${userId}`;

/** The cache plugin for one user's MSAL client; the cache's serialized form never leaves it unsealed. */
export function userTokenCache(
  store: Store,
  cipher: TokenCipher,
  owner: { tenantId: string; userId: string },
  now: () => Date,
  log: Logger,
): ICachePlugin & { readonly found: () => boolean } {
  const id = userTokenCacheId(owner.userId);
  const aad = linkOwner(owner.tenantId, owner.userId);
  const item = () => store.container('accounts').item(id, owner.tenantId);
  let etag: string | undefined;
  let found = false;
  return {
    found: () => found,
    async beforeCacheAccess(context: TokenCacheContext) {
      const { resource } = await item().read<UserTokenCacheDoc>();
      if (resource?.type !== 'msal-cache') return;
      found = true;
      etag = resource._etag;
      context.tokenCache.deserialize(cipher.open(resource.sealed, aad));
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (!context.cacheHasChanged) return;
      const doc: UserTokenCacheDoc = {
        id,
        tenantId: owner.tenantId,
        type: 'msal-cache',
        userId: owner.userId,
        sealed: cipher.seal(context.tokenCache.serialize(), aad),
        updatedAt: now().toISOString(),
      };
      try {
        const written = etag
          ? await item().replace(doc, { accessCondition: { type: 'IfMatch', condition: etag } })
          : await store.container('accounts').items.create(doc);
        etag = written.resource?._etag;
      } catch (error) {
        // Another instance wrote this user's cache first; theirs is as good (see above).
        if (!isPreconditionFailed(error) && !isConflict(error) && !isNotFound(error)) throw error;
        log.info('msal-cache-write-lost', { userId: owner.userId });
      }
    },
  };
}

const MERGE_ATTEMPTS = 5;

/**
 * At sign-in: adds the entries MSAL just made (this account's id, id_token and tokens) to the
 * user's stored cache, keeping the rest (the account OneDrive was connected with, when it is
 * another). The new entries win on a clash. Conditional on the ETag read: a write that came
 * first (a refresh, a OneDrive request) is read again and merged into.
 */
export async function mergeIntoUserTokenCache(
  store: Store,
  cipher: TokenCipher,
  owner: { tenantId: string; userId: string },
  serialized: string,
  now: Date,
): Promise<void> {
  const aad = linkOwner(owner.tenantId, owner.userId);
  const item = store.container('accounts').item(userTokenCacheId(owner.userId), owner.tenantId);
  for (let attempt = 1; ; attempt++) {
    const { resource } = await item.read<UserTokenCacheDoc>();
    const stored = resource?.type === 'msal-cache' ? openOrNothing(cipher, resource.sealed, aad) : undefined;
    const doc: UserTokenCacheDoc = {
      id: userTokenCacheId(owner.userId),
      tenantId: owner.tenantId,
      type: 'msal-cache',
      userId: owner.userId,
      sealed: cipher.seal(stored ? mergeCaches(stored, serialized) : serialized, aad),
      updatedAt: now.toISOString(),
    };
    try {
      if (resource) await item.replace(doc, { accessCondition: { type: 'IfMatch', condition: resource._etag! } });
      else await store.container('accounts').items.create(doc);
      return;
    } catch (error) {
      if (attempt >= MERGE_ATTEMPTS || !(isPreconditionFailed(error) || isConflict(error) || isNotFound(error))) throw error;
    }
  }
}

/** A cache sealed with a retired key, or unreadable: replaced by the new one rather than failing the sign-in. */
function openOrNothing(cipher: TokenCipher, sealed: string, aad: string): string | undefined {
  try {
    return cipher.open(sealed, aad);
  } catch {
    return undefined;
  }
}

/** MSAL's serialized form is a map per kind (Account, IdToken, AccessToken, RefreshToken, AppMetadata) keyed by entry. */
function mergeCaches(stored: string, fresh: string): string {
  const older = JSON.parse(stored) as Record<string, Record<string, unknown>>;
  const newer = JSON.parse(fresh) as Record<string, Record<string, unknown>>;
  const merged: Record<string, Record<string, unknown>> = { ...older };
  for (const [kind, entries] of Object.entries(newer)) merged[kind] = { ...(older[kind] ?? {}), ...entries };
  return JSON.stringify(merged);
}

/** Erasure (idempotent): true when there was one. */
export async function deleteUserTokenCache(store: Store, tenantId: string, userId: string): Promise<boolean> {
  try {
    await store.container('accounts').item(userTokenCacheId(userId), tenantId).delete();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

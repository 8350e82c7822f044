import { deleteIfUnchanged, replaceIfUnchanged } from '../store/conditional-replace.js';
import { isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { hashSecret } from '../tokens/secrets.js';
import type { LinkedAccount } from './graph-tokens.js';

/**
 * A user's OneDrive link (docs/data.md#onedrive-links-and-consents): one item beside the user in the tenant's partition of
 * `accounts`. It names the account in the user's sealed MSAL cache (`msal:<userId>`, the one
 * store of the user's Microsoft tokens, shared/microsoft/token-cache.ts) whose tokens reach
 * Graph, and holds the ids of the two folders the app works in. No tokens, no file names, no
 * drive contents.
 */
export type OneDriveStatus = 'connected' | 'reconnect-required';

export interface OneDriveLinkDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'onedrive-link';
  readonly userId: string;
  readonly status: OneDriveStatus;
  /** The account in the user's MSAL cache; absent on links stored before MSAL, and once Entra refused. */
  readonly account?: LinkedAccount;
  /**
   * Links stored before OneDrive used MSAL: the Entra refresh token, sealed (`v1.<kid>.…`).
   * Moved into the user's MSAL cache on first use and then dropped; dropped too when Entra refuses it.
   */
  readonly refreshToken?: string;
  readonly printFolderId: string;
  readonly scanFolderId: string;
  readonly connectedAt: string;
  readonly updatedAt: string;
  readonly _etag?: string;
}

export const linkId = (userId: string) => `onedrive:${userId}`;
/** What a sealed token is bound to: a token copied to another user's link does not open. */
export const linkOwner = (tenantId: string, userId: string) => `${tenantId}|${userId}`;

export async function readLink(store: Store, tenantId: string, userId: string): Promise<OneDriveLinkDoc | undefined> {
  const { resource } = await store.container('accounts').item(linkId(userId), tenantId).read<OneDriveLinkDoc>();
  return resource?.type === 'onedrive-link' && resource.userId === userId ? resource : undefined;
}

/** Connecting (again) replaces whatever link there was. */
export async function saveLink(store: Store, link: Omit<OneDriveLinkDoc, 'id' | 'type' | '_etag'>): Promise<OneDriveLinkDoc> {
  const { resource } = await store
    .container('accounts')
    .items.upsert<OneDriveLinkDoc>({ ...link, id: linkId(link.userId), type: 'onedrive-link' });
  return resource!;
}

/**
 * A link from before MSAL, once its refresh token is in the user's MSAL cache: names the account
 * and drops the bare token. Conditional on the ETag: a disconnect or another instance's migration
 * in between stands (the undefined answer).
 */
export async function storeMigratedLink(
  store: Store,
  link: OneDriveLinkDoc,
  account: LinkedAccount,
  now: Date,
): Promise<OneDriveLinkDoc | undefined> {
  const { refreshToken: _migrated, ...rest } = link;
  try {
    return await replaceIfUnchanged(store.container('accounts'), { ...rest, account, updatedAt: now.toISOString() }, link.tenantId);
  } catch (error) {
    if (isPreconditionFailed(error) || isNotFound(error)) return undefined;
    throw error;
  }
}

/** Entra refused: the link says so, and keeps no token (a bare one from before MSAL can never be used again). */
export async function markReconnectRequired(store: Store, link: OneDriveLinkDoc, now: Date): Promise<void> {
  const { refreshToken: _dropped, account: _refused, ...rest } = link;
  try {
    await replaceIfUnchanged(
      store.container('accounts'),
      { ...rest, status: 'reconnect-required', updatedAt: now.toISOString() },
      link.tenantId,
    );
  } catch (error) {
    if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
  }
}

/** Idempotent: forgetting a link that is not there is done already. */
export async function deleteLink(store: Store, tenantId: string, userId: string): Promise<boolean> {
  try {
    await store.container('accounts').item(linkId(userId), tenantId).delete();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * The pending consent between `/api/onedrive/connect` and the callback: found by the SHA-256 of
 * the `state` (which is 256 random bits and travels only through the user's browser), for 10
 * minutes. The PKCE verifier is sealed like the MSAL cache. The callback reads it first and
 * spends it only when the link is about to be written, so a failure on the way (Entra or Graph
 * down) leaves it for the user's retry of the same callback URL.
 */
export interface ConnectStateDoc {
  readonly id: string;
  readonly type: 'onedrive-connect';
  readonly tenantId: string;
  readonly userId: string;
  readonly codeVerifier: string;
  readonly expiresAt: string;
  readonly ttl: number;
  readonly _etag?: string;
}

export const CONNECT_STATE_LIFETIME_SECONDS = 600;
export const connectStateId = (state: string) => `onedrive-state:${hashSecret(state)}`;

export async function saveConnectState(store: Store, doc: Omit<ConnectStateDoc, 'type' | 'ttl' | '_etag'>): Promise<void> {
  await store
    .container('deviceCodes')
    .items.create<ConnectStateDoc>({ ...doc, type: 'onedrive-connect', ttl: CONNECT_STATE_LIFETIME_SECONDS });
}

/** The pending consent `state` names; undefined when unknown, spent or expired (TTL is not checked by every store). */
export async function readConnectState(store: Store, state: string, now: Date): Promise<ConnectStateDoc | undefined> {
  const id = connectStateId(state);
  const { resource } = await store.container('deviceCodes').item(id, id).read<ConnectStateDoc>();
  if (resource?.type !== 'onedrive-connect') return undefined;
  return Date.parse(resource.expiresAt) > now.getTime() ? resource : undefined;
}

/**
 * Deletes the pending consent if it is still the one read: of two callbacks racing with one
 * state exactly one gets true, and an erasure that deleted it meanwhile makes it false.
 */
export function spendConnectState(store: Store, pending: ConnectStateDoc): Promise<boolean> {
  return deleteIfUnchanged(store.container('deviceCodes'), pending, pending.id);
}

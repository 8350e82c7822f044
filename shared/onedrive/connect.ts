import { Forbidden, Invalid } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { deleteUserTokenCache } from '../microsoft/token-cache.js';
import type { Services } from '../services.js';
import { newSecret } from '../tokens/secrets.js';
import { readUser, type UserDoc } from '../users/users.js';
import { forgetAccount, onedriveAuthorizationUrl, redeemConsent, signInAccount, type LinkedAccount } from './graph-tokens.js';
import {
  CONNECT_STATE_LIFETIME_SECONDS,
  connectStateId,
  deleteLink,
  readConnectState,
  readLink,
  saveConnectState,
  saveLink,
  spendConnectState,
  type OneDriveLinkDoc,
} from './links.js';
import type { OneDrive } from './onedrive.js';

/**
 * Connecting a user's OneDrive (docs/flows.md#onedrive-for-business), in two requests:
 *  1. the app asks for an authorization URL (MSAL's): a fresh `state` (names the pending
 *     consent) and a PKCE verifier are stored, the verifier sealed;
 *  2. Entra ID sends the browser back with a code; MSAL redeems it with the verifier, the Print
 *     and Scan folders are ensured, and only then the state spent (once), the tokens added to the
 *     user's sealed MSAL cache and the link written. A failure on the way leaves nothing behind
 *     and the state as it was, so the user can load the same callback URL again.
 * Or in one step with a Microsoft sign-in, whose consent included OneDrive
 * (connectOneDriveAfterSignIn).
 */
export const PRINT_FOLDER = 'Print';
export const SCAN_FOLDER = 'Scan';

/** For the user item as read in this request: an erased user's token, still valid for minutes, links nothing. */
export async function startConnect(services: Services, user: Pick<UserDoc, 'tenantId' | 'id'>) {
  // First: in a region without OneDrive, 503 onedrive-not-configured.
  await services.onedrive();
  const microsoft = await services.microsoft();
  const state = newSecret(32);
  const pkce = await microsoft.pkce();
  const expiresAt = new Date(services.now().getTime() + CONNECT_STATE_LIFETIME_SECONDS * 1000).toISOString();
  const id = connectStateId(state);
  const authorizationUrl = await onedriveAuthorizationUrl(services, { state, codeChallenge: pkce.challenge });
  await saveConnectState(services.store, {
    id,
    tenantId: user.tenantId,
    userId: user.id,
    codeVerifier: microsoft.cipher.seal(pkce.verifier, id),
    expiresAt,
  });
  return { authorizationUrl, expiresAt };
}

/** The callback's 400: the user has to start again from the app. */
export const callbackRefused = (reason: string) => new Invalid(`OneDrive was not connected: ${reason}`);

/**
 * Throws OneDriveConsentGone (graph-tokens.ts) for a code Entra does not accept, and
 * MicrosoftTokensUnavailable while Entra is down, with the state left for a reload.
 */
export async function connectOneDrive(services: Services, state: string, code: string, log: Logger): Promise<void> {
  const { store, now } = services;
  const pending = await readConnectState(store, state, now());
  if (!pending) throw callbackRefused('this sign-in link expired or was used already; start again from the app');
  const onedrive = await services.onedrive();
  const microsoft = await services.microsoft();
  const owner = { tenantId: pending.tenantId, userId: pending.userId };
  const redeemed = await redeemConsent(services, owner, code, microsoft.cipher.open(pending.codeVerifier, pending.id), log);
  const link = await withFolders(services, onedrive, owner, redeemed.account, redeemed.accessToken, log);
  // Gone when another callback with this state won, or when the user was erased meanwhile
  // (erasure deletes pending consents).
  if (!(await spendConnectState(store, pending))) throw callbackRefused('this sign-in link was used already; start again from the app');
  await redeemed.keep();
  await saveLink(store, link);
  if (!(await stillThere(services, owner)))
    throw new Forbidden('OneDrive was not connected: the account that asked for it no longer exists');
  log.info('onedrive-connected', { userId: pending.userId });
}

/** The sign-in waits at most this long for OneDrive (Graph's own limits allow far more: two folders, each with retries). */
export const SIGN_IN_LINK_WAIT_MS = 8_000;

/**
 * After a Microsoft sign-in whose consent included OneDrive (shared/microsoft/sign-in.ts): the
 * link is made in the same step, with the account the user signed in with, unless they have a
 * connected link already. Never fails the sign-in, and never holds it longer than
 * SIGN_IN_LINK_WAIT_MS (a slower Graph finishes the link on its own, or not at all): when Graph
 * or Entra say no, the user connects later from the app, and the log says why without naming anyone.
 */
export async function connectOneDriveAfterSignIn(
  services: Services,
  user: { tenantId: string; userId: string },
  log: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn('onedrive-not-connected-at-sign-in', { userId: user.userId, reason: 'slow' });
      resolve();
    }, SIGN_IN_LINK_WAIT_MS);
  });
  await Promise.race([linkAtSignIn(services, user, log), waited]);
  clearTimeout(timer);
}

async function linkAtSignIn(services: Services, user: { tenantId: string; userId: string }, log: Logger): Promise<void> {
  try {
    if ((await readLink(services.store, user.tenantId, user.userId))?.status === 'connected') return;
    const entra = (await readUser(services.store, user.tenantId, user.userId))?.entra;
    if (!entra) return;
    const onedrive = await services.onedrive();
    const account = await signInAccount(services, user, entra, log);
    if (!account) {
      log.warn('onedrive-not-connected-at-sign-in', { userId: user.userId, reason: 'no-account' });
      return;
    }
    const link = await withFolders(services, onedrive, user, account, undefined, log);
    await saveLink(services.store, link);
    if (!(await stillThere(services, user))) return;
    log.info('onedrive-connected', { userId: user.userId, with: 'microsoft-sign-in' });
  } catch (error) {
    const reason = (error as { code?: unknown; kind?: unknown; name?: unknown } | undefined) ?? {};
    log.warn('onedrive-not-connected-at-sign-in', {
      userId: user.userId,
      reason: String(reason.code ?? reason.kind ?? reason.name ?? 'unknown'),
    });
  }
}

/** The link for `account`, once its Print and Scan folders are there (nothing is stored yet). */
async function withFolders(
  services: Services,
  onedrive: OneDrive,
  owner: { tenantId: string; userId: string },
  account: LinkedAccount,
  fresh: string | undefined,
  log: Logger,
): Promise<Omit<OneDriveLinkDoc, 'id' | 'type' | '_etag'>> {
  const time = services.now().toISOString();
  const link = {
    tenantId: owner.tenantId,
    userId: owner.userId,
    status: 'connected' as const,
    account,
    printFolderId: '',
    scanFolderId: '',
    connectedAt: time,
    updatedAt: time,
  };
  const drive = await onedrive.driveOf(services, { ...link, id: '', type: 'onedrive-link' }, log, fresh);
  const printFolderId = await drive.ensureFolder(PRINT_FOLDER);
  const scanFolderId = await drive.ensureFolder(SCAN_FOLDER);
  return { ...link, printFolderId, scanFolderId };
}

/**
 * Checked after the writes, not before: an erasure that removes links and the MSAL cache after
 * the user item then either sees them or has already made this read fail, and they go.
 */
async function stillThere(services: Services, owner: { tenantId: string; userId: string }): Promise<boolean> {
  if (await readUser(services.store, owner.tenantId, owner.userId)) return true;
  await deleteLink(services.store, owner.tenantId, owner.userId);
  await deleteUserTokenCache(services.store, owner.tenantId, owner.userId);
  return false;
}

/**
 * Forgets the link (idempotent), and its account's tokens in the user's MSAL cache unless that
 * account is the one the user signs in with. A region without OneDrive forgets the link only.
 */
export async function disconnectOneDrive(services: Services, owner: { tenantId: string; userId: string }, log: Logger): Promise<void> {
  const link = await readLink(services.store, owner.tenantId, owner.userId);
  await deleteLink(services.store, owner.tenantId, owner.userId);
  if (!link?.account || services.config.microsoft.disabledBecause) return;
  const entra = (await readUser(services.store, owner.tenantId, owner.userId))?.entra;
  await forgetAccount(services, owner, link.account, entra, log);
}

import { Forbidden, Invalid, UpstreamFailed } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { newSecret } from '../tokens/secrets.js';
import { readUser, type UserDoc } from '../users/users.js';
import { newPkce } from './entra.js';
import {
  CONNECT_STATE_LIFETIME_SECONDS,
  connectStateId,
  deleteLink,
  linkOwner,
  readConnectState,
  saveConnectState,
  saveLink,
  spendConnectState,
} from './links.js';

/**
 * Connecting a user's OneDrive (docs/flows.md#onedrive-for-business), in two requests:
 *  1. the app asks for an authorization URL: a fresh `state` (names the pending consent) and a
 *     PKCE verifier are stored, the verifier sealed;
 *  2. Entra ID sends the browser back with a code; the code is redeemed with the verifier, the
 *     Print and Scan folders ensured, and only then the state spent (once) and the link
 *     written. A failure on the way leaves nothing behind and the state as it was, so the user
 *     can load the same callback URL again.
 */
export const PRINT_FOLDER = 'Print';
export const SCAN_FOLDER = 'Scan';

/** For the user item as read in this request: an erased user's token, still valid for minutes, links nothing. */
export async function startConnect(services: Services, user: Pick<UserDoc, 'tenantId' | 'id'>) {
  const onedrive = await services.onedrive();
  const state = newSecret(32);
  const pkce = newPkce();
  const expiresAt = new Date(services.now().getTime() + CONNECT_STATE_LIFETIME_SECONDS * 1000).toISOString();
  const id = connectStateId(state);
  await saveConnectState(services.store, {
    id,
    tenantId: user.tenantId,
    userId: user.id,
    codeVerifier: onedrive.cipher.seal(pkce.verifier, id),
    expiresAt,
  });
  return { authorizationUrl: onedrive.entra.authorizationUrl({ state, codeChallenge: pkce.challenge }), expiresAt };
}

/** The callback's 400: the user has to start again from the app. */
export const callbackRefused = (reason: string) => new Invalid(`OneDrive was not connected: ${reason}`);

export async function connectOneDrive(services: Services, state: string, code: string, log: Logger): Promise<void> {
  const { store, now } = services;
  const pending = await readConnectState(store, state, now());
  if (!pending) throw callbackRefused('this sign-in link expired or was used already; start again from the app');
  const onedrive = await services.onedrive();
  const tokens = await onedrive.entra.redeemCode(code, onedrive.cipher.open(pending.codeVerifier, pending.id));
  if (!tokens.refreshToken) throw new UpstreamFailed('Microsoft granted no refresh token (offline_access); start again from the app');
  const owner = linkOwner(pending.tenantId, pending.userId);
  const time = now().toISOString();
  const link = {
    tenantId: pending.tenantId,
    userId: pending.userId,
    status: 'connected' as const,
    refreshToken: onedrive.cipher.seal(tokens.refreshToken, owner),
    printFolderId: '',
    scanFolderId: '',
    connectedAt: time,
    updatedAt: time,
  };
  const drive = await onedrive.driveOf(store, { ...link, id: '', type: 'onedrive-link' }, log, tokens);
  const printFolderId = await drive.ensureFolder(PRINT_FOLDER);
  const scanFolderId = await drive.ensureFolder(SCAN_FOLDER);
  // Gone when another callback with this state won, or when the user was erased meanwhile
  // (erasure deletes pending consents).
  if (!(await spendConnectState(store, pending))) throw callbackRefused('this sign-in link was used already; start again from the app');
  await saveLink(store, { ...link, printFolderId, scanFolderId });
  // Checked after the write, not before: an erasure that removes links after the user item
  // then either sees this link or has already made this read fail.
  if (!(await readUser(store, pending.tenantId, pending.userId))) {
    await deleteLink(store, pending.tenantId, pending.userId);
    throw new Forbidden('OneDrive was not connected: the account that asked for it no longer exists');
  }
  log.info('onedrive-connected', { userId: pending.userId });
}

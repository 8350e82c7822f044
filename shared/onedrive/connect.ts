import { HttpProblem } from '../http/problem.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { newSecret } from '../tokens/secrets.js';
import { newPkce } from './entra.js';
import { CONNECT_STATE_LIFETIME_SECONDS, connectStateId, linkOwner, saveConnectState, saveLink, takeConnectState } from './links.js';

/**
 * Connecting a user's OneDrive (SPEC §3.9), in two requests:
 *  1. the app asks for an authorization URL: a fresh `state` (names the pending consent) and a
 *     PKCE verifier are stored, the verifier sealed;
 *  2. Entra ID sends the browser back with a code; the state is taken (once), the code redeemed
 *     with the verifier, the Print and Scan folders ensured, and only then the link written —
 *     a failure on the way leaves nothing behind.
 */
export const PRINT_FOLDER = 'Print';
export const SCAN_FOLDER = 'Scan';

export async function startConnect(services: Services, tenantId: string, userId: string) {
  const onedrive = await services.onedrive();
  const state = newSecret(32);
  const pkce = newPkce();
  const expiresAt = new Date(services.now().getTime() + CONNECT_STATE_LIFETIME_SECONDS * 1000).toISOString();
  const id = connectStateId(state);
  await saveConnectState(services.store, { id, tenantId, userId, codeVerifier: onedrive.cipher.seal(pkce.verifier, id), expiresAt });
  return { authorizationUrl: onedrive.entra.authorizationUrl({ state, codeChallenge: pkce.challenge }), expiresAt };
}

export async function connectOneDrive(services: Services, state: string, code: string, log: Logger): Promise<void> {
  const { store, now } = services;
  const pending = await takeConnectState(store, state, now());
  if (!pending) throw new HttpProblem('validation-failed', 'OneDrive was not connected: this sign-in link expired or was used already; start again from the app');
  const onedrive = await services.onedrive();
  const tokens = await onedrive.entra.redeemCode(code, onedrive.cipher.open(pending.codeVerifier, pending.id));
  if (!tokens.refreshToken) throw new HttpProblem('bad-gateway', 'Microsoft granted no refresh token (offline_access); start again from the app');
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
  await saveLink(store, { ...link, printFolderId, scanFolderId });
  log.info('onedrive-connected', { userId: pending.userId });
}

import { Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { OAuthError } from '../oauth/errors.js';
import type { Services } from '../services.js';
import { readTenant } from '../tenants/tenants.js';
import { followRole, roleFromClaims } from '../users/entra-identity.js';
import type { UserDoc } from '../users/users.js';
import { userTokenCache } from './token-cache.js';

/** Entra down or slow during a refresh: the client keeps its refresh token and tries again (503 temporarily_unavailable). */
const unavailable = (retryAfterSeconds: number | undefined) =>
  new Unavailable(Math.max(1, Math.ceil(retryAfterSeconds ?? 30)), 'Microsoft is not answering right now; try again shortly');

const isUnavailable = (error: unknown) => error instanceof Error && error.name === 'MicrosoftUnavailable';

/**
 * At every refresh of a Microsoft user's session (grants/refresh-token.ts): the person's role is
 * read again from Entra (docs/flows.md, Sign in with Microsoft). Their sealed MSAL cache, stored at
 * sign-in, gives MSAL the Entra refresh token; a forced refresh brings a new id_token, verified
 * like the sign-in's, whose `roles` and `groups` set the role written to the user. Entra refusing
 * (consent withdrawn, account disabled or deleted) ends the session: invalid_grant. Entra not
 * answering: Unavailable, and nothing changes.
 */
export async function rereadMicrosoftRole(services: Services, user: UserDoc, log: Logger): Promise<void> {
  const entra = user.entra!;
  const microsoft = await services.microsoft();
  const cache = userTokenCache(services.store, microsoft.cipher, { tenantId: user.tenantId, userId: user.id }, services.now, log);
  const client = await microsoft.client({ cache });
  const accounts = await client.getTokenCache().getAllAccounts();
  const account = accounts.find((a) => a.localAccountId.toLowerCase() === entra.oid && a.tenantId.toLowerCase() === entra.tid);
  if (!account) throw new OAuthError('invalid_grant', 'sign in with Microsoft again');
  let claims: Record<string, unknown>;
  try {
    const result = await client.acquireTokenSilent({ account, scopes: ['openid', 'profile', 'email'], forceRefresh: true });
    claims = await microsoft.verifyIdToken(result.idToken);
  } catch (error) {
    if (isUnavailable(error)) throw unavailable((error as { retryAfterSeconds?: number }).retryAfterSeconds);
    log.warn('microsoft-refresh-refused', { tenantId: user.tenantId, userId: user.id, error: codeOf(error) });
    throw new OAuthError('invalid_grant', 'Microsoft no longer accepts this sign-in; sign in again');
  }
  if (String(claims.tid).toLowerCase() !== entra.tid || String(claims.oid).toLowerCase() !== entra.oid) {
    throw new OAuthError('invalid_grant', 'sign in with Microsoft again');
  }
  const tenant = await readTenant(services.store, user.tenantId);
  if (!tenant) throw new OAuthError('invalid_grant', 'the tenant no longer exists');
  await followRole(services.store, user, roleFromClaims(claims, tenant.policy.entraAdminGroupId), log);
}

const codeOf = (error: unknown) =>
  error && typeof error === 'object' && 'errorCode' in error ? String(error.errorCode) : error instanceof Error ? error.name : 'unknown';

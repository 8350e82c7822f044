import { Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { OAuthError } from '../oauth/errors.js';
import type { Services } from '../services.js';
import { allowsSignIn, isBoundEntraTenant } from '../tenants/sign-in-methods.js';
import { readTenant } from '../tenants/tenants.js';
import { roleOwnedByDirectory } from '../users/admin.js';
import { followRole, roleFromClaims } from '../users/entra-identity.js';
import type { UserDoc } from '../users/users.js';
import { userTokenCache } from './token-cache.js';
import { classifyMicrosoftFailure } from './unavailable.js';

/** Entra down, slow or refusing our client during a refresh: the client keeps its refresh token and tries again (503 temporarily_unavailable). */
const unavailable = (retryAfterSeconds: number | undefined) =>
  new Unavailable(Math.max(1, Math.ceil(retryAfterSeconds ?? 30)), 'Microsoft is not answering right now; try again shortly');

/**
 * At every refresh of a Microsoft user's session (grants/refresh-token.ts): the person's role is
 * read again from Entra (docs/flows.md, Sign in with Microsoft). Their sealed MSAL cache, stored at
 * sign-in, gives MSAL the Entra refresh token; a forced refresh brings a new id_token, verified
 * like the sign-in's, whose `roles` and `groups` set the role written to the user (not for a user
 * whose role the directory owns over SCIM: users/admin.ts, roleOwnedByDirectory). Before asking
 * Entra, the tenant must still allow Microsoft sign-in and still be bound to the person's
 * organisation (an admin switched it to passwords only, or disconnected that `tid`): otherwise the
 * session ends, invalid_grant. Entra refusing the person (consent withdrawn, account disabled or
 * deleted) ends it too. Entra not answering or refusing our client (an expired secret), or the
 * store failing under the MSAL cache: 503, the session stays (classifyMicrosoftFailure).
 */
export async function rereadMicrosoftRole(services: Services, user: UserDoc, log: Logger): Promise<void> {
  const entra = user.entra!;
  const tenant = await readTenant(services.store, user.tenantId);
  if (!tenant) throw new OAuthError('invalid_grant', 'the tenant no longer exists');
  if (!allowsSignIn(tenant, 'microsoft') || !isBoundEntraTenant(tenant, entra.tid)) {
    log.warn('microsoft-refresh-refused', { tenantId: user.tenantId, userId: user.id, error: 'tenant-policy' });
    throw new OAuthError('invalid_grant', 'this tenant no longer signs in with this Microsoft organisation; sign in again');
  }
  const microsoft = await services.microsoft();
  const cache = userTokenCache(services.store, microsoft.cipher, { tenantId: user.tenantId, userId: user.id }, services.now, log);
  const client = await microsoft.client({ cache });
  const accounts = await client.getTokenCache().getAllAccounts();
  const account = accounts.find((a) => a.localAccountId.toLowerCase() === entra.oid && a.tenantId.toLowerCase() === entra.tid);
  if (!account) throw new OAuthError('invalid_grant', 'sign in with Microsoft again');
  let idToken: string;
  try {
    idToken = (await client.acquireTokenSilent({ account, scopes: ['openid', 'profile', 'email'], forceRefresh: true })).idToken;
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    if (failure.kind === 'ours') throw error;
    if (failure.kind === 'unavailable') {
      log.warn('microsoft-refresh-unavailable', { tenantId: user.tenantId, userId: user.id, error: codeOf(error) });
      throw unavailable(failure.retryAfterSeconds);
    }
    log.warn('microsoft-refresh-refused', { tenantId: user.tenantId, userId: user.id, error: failure.code });
    throw new OAuthError('invalid_grant', 'Microsoft no longer accepts this sign-in; sign in again');
  }
  let claims: Record<string, unknown>;
  try {
    claims = await microsoft.verifyIdToken(idToken);
  } catch (error) {
    const failure = classifyMicrosoftFailure(error);
    if (failure.kind === 'unavailable') throw unavailable(failure.retryAfterSeconds);
    log.warn('microsoft-refresh-refused', { tenantId: user.tenantId, userId: user.id, error: codeOf(error) });
    throw new OAuthError('invalid_grant', 'Microsoft sent an id_token that does not verify; sign in again');
  }
  if (String(claims.tid).toLowerCase() !== entra.tid || String(claims.oid).toLowerCase() !== entra.oid) {
    throw new OAuthError('invalid_grant', 'sign in with Microsoft again');
  }
  // A user provisioned over SCIM takes their role from the admin group's membership, not from the claims.
  if (roleOwnedByDirectory(tenant.policy, user)) return;
  await followRole(services.store, user, roleFromClaims(claims, tenant.policy.entraAdminGroupId), log);
}

const codeOf = (error: unknown) =>
  error && typeof error === 'object' && 'errorCode' in error ? String(error.errorCode) : error instanceof Error ? error.name : 'unknown';

import type { Logger } from '../../logging/logger.js';
import type { Services } from '../../services.js';
import { writeOnLatest } from '../../store/conditional-replace.js';
import { hashSecret, newId, newSecret } from '../../tokens/secrets.js';
import { isDeactivated } from '../../users/activation.js';
import { readUser, replaceUser, updateUser, type UserDoc } from '../../users/users.js';
import { AuthorizationCodeReused, authorizationCodeReplayed, redeemAuthorizationCode } from '../authorization-codes.js';
import { parseScope } from '../clients.js';
import { oauthDefaults } from '../defaults.js';
import { OAuthError } from '../errors.js';
import { formatRefreshToken, newFamily, userFamilyLifetime, withFamily, withoutFamily } from '../refresh-families.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

export const grantType = 'authorization_code';

/**
 * RFC 6749 §4.1.3 with RFC 7636 §4.5–4.6: the code, the redirect_uri of the authorization
 * request, the client it was issued to and the PKCE verifier. The code is redeemed once
 * (authorization-codes.ts); a replayed one revokes the refresh family its first redemption
 * started (RFC 6749 §4.1.2, RFC 9700 §4.2.4). The user is read again: an erased or deactivated
 * user (deactivated between sign-in and redemption) gets nothing, and the role in the token is the one stored now, not at sign-in.
 */
export async function handler(services: Services, { clientId, parameters, log }: TokenRequest): Promise<TokenResponse> {
  const { store, now } = services;
  const { code, redirect_uri: redirectUri, code_verifier: codeVerifier } = parameters;
  if (!code) throw new OAuthError('invalid_request', 'code is required');
  if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
  if (!codeVerifier) throw new OAuthError('invalid_request', 'code_verifier is required');

  const familyId = newId();
  let redemption;
  try {
    redemption = await redeemAuthorizationCode(store, { code, clientId, redirectUri, codeVerifier }, now(), familyId);
  } catch (error) {
    if (error instanceof AuthorizationCodeReused && error.refreshFamilyId && error.owner) {
      await revokeFamily(services, error.owner, error.refreshFamilyId, log);
    }
    throw error;
  }
  const { tenantId, subjectId, scope } = redemption;
  const user = await readUser(store, tenantId, subjectId);
  if (!user) throw new OAuthError('invalid_grant', 'the account no longer exists');
  if (isDeactivated(user)) throw new OAuthError('invalid_grant', 'the account is turned off');

  let refreshToken: string | undefined;
  if (parseScope(scope).includes('offline_access')) {
    const secret = newSecret();
    const time = now();
    const family = { ...newFamily(clientId, scope, hashSecret(secret), userFamilyLifetime, time), id: familyId };
    const saved = await updateUser(store, user, (current) => {
      // Deactivated since the read above: its write emptied the families, and none may come back.
      if (isDeactivated(current)) throw new OAuthError('invalid_grant', 'the account is turned off');
      return { ...current, refreshFamilies: withFamily(current.refreshFamilies, family, oauthDefaults.familiesPerUser, time) };
    });
    if (!saved) throw new OAuthError('invalid_grant', 'the account no longer exists');
    // A replay between the redemption and this write found no family to revoke: this write's family goes now.
    if (await authorizationCodeReplayed(store, code)) {
      await revokeFamily(services, { tenantId, subjectId }, familyId, log);
      throw new OAuthError('invalid_grant', 'the authorization code was already used');
    }
    refreshToken = formatRefreshToken('u', tenantId, subjectId, familyId, secret);
  }
  return tokenResponse(services, { sub: user.id, client_id: clientId, scope, tid: tenantId, roles: [user.role] }, refreshToken);
}

const REVOKE_WRITE_ATTEMPTS = 5;

/**
 * Removes the family a replayed code started. Conditional like every write to the user's item
 * (refresh-token.ts): when another write came first (412), the user is read again and the family
 * removed from what is there now, so a refresh racing the replay cannot keep it alive.
 */
async function revokeFamily(
  services: Services,
  owner: { tenantId: string; subjectId: string },
  familyId: string,
  log: Logger,
): Promise<void> {
  const holding = async (): Promise<UserDoc | undefined> => {
    const user = await readUser(services.store, owner.tenantId, owner.subjectId);
    return user?.refreshFamilies.some((f) => f.id === familyId) ? user : undefined;
  };
  const user = await holding();
  log.warn('authorization-code-reuse', { tenantId: owner.tenantId, userId: owner.subjectId, familyId, revoked: !!user });
  services.telemetry.refreshReuse();
  if (!user) return; // no refresh token was issued (no offline_access), or it is gone already
  await writeOnLatest(
    user,
    (current) => replaceUser(services.store, { ...current, refreshFamilies: withoutFamily(current.refreshFamilies, familyId) }),
    holding,
    REVOKE_WRITE_ATTEMPTS,
  );
}

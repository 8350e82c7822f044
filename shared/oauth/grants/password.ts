import type { Services } from '../../services.js';
import { findTenantBySlug, readTenant, type Tenant } from '../../tenants/tenants.js';
import { spendVerifyTime } from '../../tokens/credential-hash.js';
import { hashSecret, newId, newSecret } from '../../tokens/secrets.js';
import { signIn } from '../../users/sign-in.js';
import { oauthClients, parseScope } from '../clients.js';
import { oauthDefaults } from '../defaults.js';
import { OAuthError } from '../errors.js';
import { authenticatePrinter } from '../printer-client.js';
import { formatRefreshToken, newFamily, userFamilyLifetime, withFamily } from '../refresh-families.js';
import { tokenResponse } from '../token-response.js';

export const grantType = 'password';

export interface PasswordGrantRequest {
  readonly username?: string;
  readonly password?: string;
  readonly scope?: string;
  readonly tenant?: string;
}

const INVALID = 'wrong username or password, or the account is locked';

/**
 * Resource Owner Password Credentials (RFC 6749 §4.3), accepted only where SPEC §3.4–3.5 say:
 *  - from an enrolled printer (`roger-emb` with its Bearer device token): PIN or password →
 *    a session token for that user at that printer, no refresh token;
 *  - from the mobile app (`roger-mobile`, with the tenant's slug): password → access and
 *    refresh token.
 * Every other client gets unauthorized_client. Unknown user, wrong secret and locked account
 * all answer the same invalid_grant after the same argon2 work.
 */
export async function passwordGrant(services: Services, clientId: string, request: PasswordGrantRequest, headers: Headers, ip?: string) {
  if (clientId !== 'roger-emb' && clientId !== 'roger-mobile') {
    throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
  }
  const printer = clientId === 'roger-emb' ? await authenticatePrinter(headers, services) : undefined;
  const { username, password } = request;
  if (!username || !password) throw new OAuthError('invalid_request', 'username and password are required');

  const client = oauthClients[clientId]!;
  const allowed = printer ? ['jobs:submit', 'scan'] : client.scopes;
  const requested = parseScope(request.scope);
  const scope = requested.length > 0 ? requested : [...allowed];
  if (scope.some((s) => !allowed.includes(s))) throw new OAuthError('invalid_scope', `allowed scopes: ${allowed.join(' ')}`);

  let tenant: Tenant | undefined;
  if (printer) tenant = await readTenant(services.store, printer.tenantId);
  else if (!request.tenant) throw new OAuthError('invalid_request', 'tenant is required');
  else tenant = await findTenantBySlug(services.store, request.tenant, services.config.region.id);
  if (!tenant) {
    await spendVerifyTime(password);
    throw new OAuthError('invalid_grant', INVALID);
  }

  // At the printer a PIN is all digits; a password never is (policy: at least 8 characters).
  const method = printer && /^[0-9]+$/.test(password) ? 'pin' : 'password';
  if (method === 'pin' && !tenant.policy.allowedLoginMethods.includes('pin')) {
    await spendVerifyTime(password);
    throw new OAuthError('invalid_grant', 'PIN sign-in is disabled for this tenant');
  }

  const scopeText = scope.join(' ');
  const refreshSecret = !printer && scope.includes('offline_access') ? newSecret() : undefined;
  let familyId: string | undefined;
  const user = await signIn(services, tenant, { loginName: username, secret: password, method, clientId, ip }, (signedIn) => {
    if (!refreshSecret) return signedIn;
    const family = newFamily(clientId, scopeText, hashSecret(refreshSecret), userFamilyLifetime, services.now());
    familyId = family.id;
    return { ...signedIn, refreshFamilies: withFamily(signedIn.refreshFamilies, family, oauthDefaults.familiesPerUser, services.now()) };
  });
  if (!user) throw new OAuthError('invalid_grant', INVALID);

  if (printer) {
    return tokenResponse(services, {
      sub: user.id,
      client_id: clientId,
      scope: scopeText,
      tid: tenant.id,
      act: { sub: printer.deviceId },
      sid: newId(),
    });
  }
  const refreshToken = refreshSecret && familyId ? formatRefreshToken('u', tenant.id, user.id, familyId, refreshSecret) : undefined;
  return tokenResponse(services, { sub: user.id, client_id: clientId, scope: scopeText, tid: tenant.id, roles: [user.role] }, refreshToken);
}

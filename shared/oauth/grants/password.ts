import type { Services } from '../../services.js';
import { printerSecretKind } from '../../tenants/policy.js';
import { allowsSignIn } from '../../tenants/sign-in-methods.js';
import { findTenantBySlug, readTenant, type Tenant } from '../../tenants/tenants.js';
import { spendVerifyTime } from '../../tokens/credential-hash.js';
import { hashSecret, newSecret } from '../../tokens/secrets.js';
import { signIn } from '../../users/sign-in.js';
import { oauthClients, parseScope } from '../clients.js';
import { oauthDefaults } from '../defaults.js';
import { OAuthError } from '../errors.js';
import { connectedPrinter, PRINTER_SESSION_SCOPES, printerSessionToken, withinFailureLimit } from '../printer-sign-in.js';
import { formatRefreshToken, newFamily, userFamilyLifetime, withFamily } from '../refresh-families.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

export const grantType = 'password';

const INVALID = 'wrong username or password, or the account is locked';
const MICROSOFT_ONLY = 'this organization signs in with Microsoft, not with a Roger password: use Sign in with Microsoft';

/**
 * Resource Owner Password Credentials (RFC 6749 §4.3), accepted only as docs/security.md#the-password-grant-at-printers says:
 *  - from an enrolled printer (`roger-emb` with its Bearer device token): PIN or password →
 *    a session token for that user at that printer, no refresh token;
 *  - from the mobile app (`roger-mobile`, with the tenant's slug): password → access and
 *    refresh token.
 * Every other client gets unauthorized_client. Unknown user, wrong secret and locked account
 * all answer the same invalid_grant after the same argon2 work.
 *
 * The app's password sign-in obeys the tenant's `signInMethods` (docs/security.md, Sign in with
 * Microsoft): where `password` is off it answers unauthorized_client (RFC 6749 §5.2: this client
 * may not use this grant here), naming Microsoft sign-in. That is decided from the tenant alone,
 * before any user is looked up, and costs the same argon2 work and failure count as a wrong
 * password, so it tells nothing about who exists and is no cheaper to probe. The policy itself
 * is no secret: the sign-in page shows it to anyone. Printers are not affected.
 */
export async function handler(services: Services, { clientId, parameters: request, headers, ip }: TokenRequest): Promise<TokenResponse> {
  if (clientId !== 'roger-emb' && clientId !== 'roger-mobile') {
    throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
  }
  const printer = clientId === 'roger-emb' ? await connectedPrinter(services, headers) : undefined;
  const { username, password } = request;
  if (!username || !password) throw new OAuthError('invalid_request', 'username and password are required');

  const client = oauthClients[clientId]!;
  const allowed = printer ? PRINTER_SESSION_SCOPES : client.scopes;
  const requested = parseScope(request.scope);
  const scope = requested.length > 0 ? requested : [...allowed];
  if (scope.some((s) => !allowed.includes(s))) throw new OAuthError('invalid_scope', `allowed scopes: ${allowed.join(' ')}`);

  let tenant: Tenant | undefined;
  if (printer) tenant = await readTenant(services.store, printer.tenantId);
  else if (!request.tenant) throw new OAuthError('invalid_request', 'tenant is required');
  else tenant = await findTenantBySlug(services.store, request.tenant, services.config.region.id);

  // The tenant decides what a typed secret is checked as, not the secret's shape (policy.ts).
  const method = printer ? (tenant ? printerSecretKind(tenant.policy, password) : 'pin') : 'password';
  if (!method) throw new OAuthError('unauthorized_client', 'this organization has turned off PIN and password sign-in at printers');
  const passwordOff = !printer && tenant !== undefined && !allowsSignIn(tenant, 'password');

  const scopeText = scope.join(' ');
  const refreshSecret = !printer && scope.includes('offline_access') ? newSecret() : undefined;
  let familyId: string | undefined;
  const source = printer ? { printerId: printer.deviceId, tenant } : { ip };
  const user = await withinFailureLimit(services, source, method, async () => {
    if (!tenant || passwordOff) {
      await spendVerifyTime(password);
      services.telemetry.signIn(method, 'failure');
      return undefined;
    }
    return signIn(services, tenant, { loginName: username, secret: password, method, clientId, ip }, (signedIn) => {
      if (!refreshSecret) return signedIn;
      const family = newFamily(clientId, scopeText, hashSecret(refreshSecret), userFamilyLifetime, services.now());
      familyId = family.id;
      return { ...signedIn, refreshFamilies: withFamily(signedIn.refreshFamilies, family, oauthDefaults.familiesPerUser, services.now()) };
    });
  });
  if (passwordOff) throw new OAuthError('unauthorized_client', MICROSOFT_ONLY);
  if (!user || !tenant) throw new OAuthError('invalid_grant', INVALID);

  if (printer) return printerSessionToken(services, { userId: user.id, tenantId: tenant.id, deviceId: printer.deviceId, clientId, scope });
  const refreshToken = refreshSecret && familyId ? formatRefreshToken('u', tenant.id, user.id, familyId, refreshSecret) : undefined;
  return tokenResponse(services, { sub: user.id, client_id: clientId, scope: scopeText, tid: tenant.id, roles: [user.role] }, refreshToken);
}

import { createHash, randomBytes } from 'node:crypto';
import type { AuthorizationRequest } from '../../shared/oauth/authorization-request.js';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import type { Services } from '../../shared/services.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import type { UserDoc } from '../../shared/users/users.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { browserGet } from './microsoft.js';

/**
 * The browser's side of "Sign in with Microsoft" against a host's local Entra stand-in (what the
 * sign-in page's button starts): our pending sign-in, Entra approving at once for `upn`, and the
 * callback URL with the binding cookie, not loaded yet.
 */
export const REDIRECT = 'cloud.roger.mobile:/oauth2redirect';

export const standInOf = async (services: Services) => ((await services.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;

export async function toCallback(services: Services, tenantId: string, upn: string) {
  const tenant = (await readTenantFresh(services.store, tenantId))!;
  const verifier = randomBytes(32).toString('base64url');
  const request: AuthorizationRequest = {
    clientId: 'roger-mobile',
    redirectUri: REDIRECT,
    scope: 'jobs offline_access',
    state: 'app-state',
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
  };
  const started = await startMicrosoftSignIn(services, { tenant, request, loginHint: upn, lang: 'en' });
  const atEntra = await browserGet(started.url);
  const callback = atEntra.location!;
  const cookie = started.setCookie.split(';')[0]!;
  return { callback, cookie, verifier, load: (url = callback) => fetch(url, { redirect: 'manual', headers: { cookie } }) };
}

export async function usersByEmail(services: Services, tenantId: string, email: string): Promise<UserDoc[]> {
  const { resources } = await services.store
    .container('accounts')
    .items.query<UserDoc>({
      query: "SELECT * FROM c WHERE c.tenantId = @t AND c.type = 'user' AND c.email = @e",
      parameters: [
        { name: '@t', value: tenantId },
        { name: '@e', value: email },
      ],
    })
    .fetchAll();
  return resources;
}

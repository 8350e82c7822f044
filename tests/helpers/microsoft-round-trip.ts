import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import type { AuthorizationRequest } from '../../shared/oauth/authorization-request.js';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import type { Services } from '../../shared/services.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import type { UserDoc } from '../../shared/users/users.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { browserGet } from './microsoft.js';
import { oauthEnv, tokenRequest } from './roger.js';
import { startTestHost, type TestHost } from './test-host.js';

/**
 * The browser's side of "Sign in with Microsoft" against a host's local Entra stand-in (what the
 * sign-in page's button starts): our pending sign-in, Entra approving at once for `upn`, and the
 * callback URL with the binding cookie, not loaded yet.
 */
export const REDIRECT = 'cloud.roger.mobile:/oauth2redirect';

export const standInOf = async (services: Services) => ((await services.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;

/**
 * The file's host (OAuth settings), started before its tests and closed after them. `started`
 * is given the host, its services and its Entra stand-in once they exist, for the file's own
 * variables: `microsoftTestHost((started) => ({ host, services, entra } = started))`.
 */
export function microsoftTestHost(started: (world: { host: TestHost; services: Services; entra: LocalMicrosoft }) => void): void {
  let host: TestHost | undefined;
  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    const services = await host.services();
    started({ host, services, entra: await standInOf(services) });
  });
  afterAll(() => host?.close());
}

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

/** The app's tokens for the code in our callback's redirect to the app (its `location`), with the trip's PKCE verifier. */
export async function redeemCode(host: TestHost, location: string, verifier: string) {
  const back = new URL(location);
  const tokens = await tokenRequest(host, {
    grant_type: 'authorization_code',
    client_id: 'roger-mobile',
    code: back.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return tokens.body as { access_token: string; refresh_token: string };
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

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../shared/oauth/authorization-request.js';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh, updateTenant } from '../../shared/tenants/tenants.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { uniqueName } from '../helpers/fixtures.js';
import { browserGet } from '../helpers/microsoft.js';
import { redeemCode } from '../helpers/microsoft-round-trip.js';
import { createTenant, oauthEnv } from '../helpers/roger.js';
import { isWrite } from './cosmos-fault-proxy.js';
import { expectOAuthUnavailable, refreshGrant } from './fault-kit.js';
import { startFaultyStoreHost, type FaultyStoreHost } from './faulty-store.js';

/**
 * The refresh of a Microsoft user's session (shared/microsoft/refresh.ts) ends it only when Entra
 * refuses the person (invalid_grant); our own trouble — the store failing under the MSAL cache,
 * Entra refusing our client (an expired secret) — is a 503 the client retries, and the session
 * survives it. The tenant's policy and binding are checked first: a tenant switched to passwords
 * only, or no longer bound to the person's organisation, ends the session without asking Entra.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const REDIRECT = 'cloud.roger.mobile:/oauth2redirect';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;

let faulty: FaultyStoreHost;
let services: Services;
let entra: LocalMicrosoft;
const host = () => faulty.host;
const msalCacheWrites = (request: { method: string; path: string; query: boolean }) =>
  isWrite(request) && /\/colls\/accounts\/docs/.test(request.path) && decodeURIComponent(request.path).includes('msal:');

beforeAll(async () => {
  faulty = await startFaultyStoreHost(oauthEnv);
  services = await faulty.host.services();
  entra = ((await services.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;
});
afterEach(() => faulty.proxy.clear());
afterAll(async () => {
  expect(host().logs.filter((line) => line.includes('unhandled-error'))).toEqual([]);
  await faulty?.close();
});

/** A tenant bound to Contoso, and Megan's tokens from a Microsoft sign-in there. */
async function signedInMegan() {
  const slug = uniqueName('msf');
  const tenant = await createTenant(host(), slug, {
    email: `owner@${slug}.example`,
    username: 'owner',
    fullName: 'Owner',
    password: 'owner-pass-1',
  });
  await bindEntraTenant(services, tenant.id, CONTOSO, { kind: 'admin-consent', adminUserId: tenant.adminId }, silentLog);
  const verifier = randomBytes(32).toString('base64url');
  const request: AuthorizationRequest = {
    clientId: 'roger-mobile',
    redirectUri: REDIRECT,
    scope: 'jobs offline_access',
    state: 'app-state',
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
  };
  const started = await startMicrosoftSignIn(services, {
    tenant: (await readTenantFresh(services.store, tenant.id))!,
    request,
    loginHint: 'megan@contoso.example',
    lang: 'en',
  });
  const atEntra = await browserGet(started.url);
  const callback = await fetch(atEntra.location!, { redirect: 'manual', headers: { cookie: started.setCookie.split(';')[0]! } });
  expect(callback.status).toBe(303);
  const tokens = await redeemCode(host(), callback.headers.get('location')!, verifier);
  return { tenant, refreshToken: tokens.refresh_token };
}

describe('refresh of a Microsoft user when something of ours fails', () => {
  it('the store failing under the MSAL cache is 503 temporarily_unavailable, and the session survives it', async () => {
    const { refreshToken } = await signedInMegan();
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: msalCacheWrites });
    const down = await refreshGrant(host(), refreshToken);
    expectOAuthUnavailable(down);
    expect(faulty.proxy.requests.some((request) => request.fault === 'unavailable')).toBe(true);
    faulty.proxy.clear();

    const back = await refreshGrant(host(), refreshToken);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
  });

  it('Entra refusing our client (invalid_client: an expired secret) is 503, not invalid_grant, and the session survives it', async () => {
    const { refreshToken } = await signedInMegan();
    entra.failTokenNext(1, 'invalid_client');
    const refused = await refreshGrant(host(), refreshToken);
    expectOAuthUnavailable(refused);
    const back = await refreshGrant(host(), refreshToken);
    expect(back.status, JSON.stringify(back.body)).toBe(200);
  });
});

describe('refresh of a Microsoft user after the tenant changed', () => {
  it('a tenant switched to passwords only ends the session (invalid_grant) without asking Entra', async () => {
    const { tenant, refreshToken } = await signedInMegan();
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, policy: { ...t.policy, signInMethods: ['password'] } }));
    const before = entra.stats.tokenRequests;
    const refused = await refreshGrant(host(), refreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(entra.stats.tokenRequests).toBe(before);
  });

  it('a tenant no longer bound to the person’s organisation ends the session (invalid_grant) without asking Entra', async () => {
    const { tenant, refreshToken } = await signedInMegan();
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, policy: { ...t.policy, signInMethods: ['microsoft', 'password'] } }));
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, entraTenantIds: [] }));
    const before = entra.stats.tokenRequests;
    const refused = await refreshGrant(host(), refreshToken);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(entra.stats.tokenRequests).toBe(before);
  });
});

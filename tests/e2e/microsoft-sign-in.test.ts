import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../shared/oauth/authorization-request.js';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import { userTokenCacheId } from '../../shared/microsoft/token-cache.js';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh, updateTenant } from '../../shared/tenants/tenants.js';
import { entraIdentityId } from '../../shared/users/entra-identity.js';
import { deactivated } from '../../shared/users/activation.js';
import { readUser, updateUser, type UserDoc } from '../../shared/users/users.js';
import { routeTable } from '../../functions/routes.js';
import { loadConfig } from '../../shared/config/load-config.js';
import { freePort } from '../../tools/free-port.js';
import { localAdapters } from '../../tools/local/adapters.js';
import { openLocalMicrosoftSignIn } from '../../tools/local/microsoft.js';
import { startLocalHost, type LocalHost } from '../../tools/local-host.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { uniqueName } from '../helpers/fixtures.js';
import { browserGet } from '../helpers/microsoft.js';
import { redeemCode } from '../helpers/microsoft-round-trip.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest } from '../helpers/roger.js';
import { readLogins } from '../races/race-kit.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Sign in with Microsoft end to end (docs/flows.md, Sign in with Microsoft): our authorization
 * request → startMicrosoftSignIn (what the sign-in page's button calls) → the local Entra
 * stand-in over https, approving at once for the login_hint → GET /oauth/microsoft/callback with
 * the binding cookie → our code at the client's redirect URI → /oauth/token → /api/me.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const FABRIKAM = '8c1e4b7d-2a5f-4d3c-b6e9-0f7a3d5c8b21';
const CONTOSO_PRINT_USERS = '0b6d1c9e-4f7a-4a61-8d0e-2c5b7e9f1a30';
const REDIRECT = 'cloud.roger.mobile:/oauth2redirect';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;

let host: TestHost;
let services: Services;
let entra: LocalMicrosoft;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
  entra = ((await services.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;
});
afterAll(() => host?.close());

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function boundTenant(tid = CONTOSO, policy?: Record<string, unknown>) {
  const slug = uniqueName('ms');
  const created = await createTenant(
    host,
    slug,
    { email: `owner@${slug}.example`, username: 'owner', fullName: 'Owner', password: 'owner-pass-1' },
    policy,
  );
  if (tid) await bindEntraTenant(services, created.id, tid, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
  return created;
}

/** The browser's round trip: returns our callback's answer (not followed) and what it took. */
async function roundTrip(tenantId: string, upn: string, options: { cookie?: 'none' | 'other' } = {}) {
  const tenant = (await readTenantFresh(services.store, tenantId))!;
  const { verifier, challenge } = pkce();
  const request: AuthorizationRequest = {
    clientId: 'roger-mobile',
    redirectUri: REDIRECT,
    scope: 'jobs offline_access',
    state: 'app-state',
    codeChallenge: challenge,
  };
  const started = await startMicrosoftSignIn(services, { tenant, request, loginHint: upn, lang: 'en' });
  expect(started.setCookie).toMatch(/HttpOnly; SameSite=Lax/);
  const atEntra = await browserGet(started.url);
  expect(atEntra.status).toBe(302);
  const callback = atEntra.location!;
  expect(callback.startsWith(`${host.url}/oauth/microsoft/callback?`)).toBe(true);
  const ownCookie = started.setCookie.split(';')[0]!;
  const cookie = options.cookie === 'none' ? undefined : options.cookie === 'other' ? 'roger_ms_signin=someone-else' : ownCookie;
  const load = (withCookie = cookie) => fetch(callback, { redirect: 'manual', headers: withCookie ? { cookie: withCookie } : {} });
  return { answer: await load(), load, callback, verifier, ownCookie };
}

async function exchange(location: string, verifier: string) {
  const back = new URL(location);
  expect(back.searchParams.get('state')).toBe('app-state');
  expect(back.searchParams.get('iss')).toBe(host.url);
  return redeemCode(host, location, verifier);
}

const userOf = async (tenantId: string, upn: string): Promise<UserDoc | undefined> => {
  const { resources } = await services.store
    .container('accounts')
    .items.query<UserDoc>({
      query: "SELECT * FROM c WHERE c.tenantId = @t AND c.type = 'user' AND c.email = @e",
      parameters: [
        { name: '@t', value: tenantId },
        { name: '@e', value: upn },
      ],
    })
    .fetchAll();
  return resources[0];
};

describe('Sign in with Microsoft', () => {
  it('creates the user just in time from the id_token, and the tokens work on /api/me', async () => {
    const tenant = await boundTenant();
    const { answer, verifier } = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(answer.status).toBe(303);
    expect(answer.headers.get('set-cookie')).toMatch(/roger_ms_signin=;.*Max-Age=0/);
    const tokens = await exchange(answer.headers.get('location')!, verifier);
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'megan@contoso.example', username: 'megan', fullName: 'Megan', role: 'user' });
    const user = (await readUser(services.store, tenant.id, me.body.user.id))!;
    expect(user.entra).toEqual({ tid: CONTOSO, oid: entra.addAccount('megan@contoso.example').toLowerCase() });
    expect(user.passwordHash).toBeUndefined();
    // A login record of its own (shared/users/login-records.ts), not an array in the user item.
    expect(user).not.toHaveProperty('logins');
    expect((await readLogins(host, tenant.id, user.id)).at(-1)).toMatchObject({
      method: 'microsoft',
      success: true,
      clientId: 'roger-mobile',
    });
    // The look-up item and the sealed MSAL cache (no token in clear).
    const { resource: lookup } = await services.store
      .container('accounts')
      .item(entraIdentityId(CONTOSO, user.entra!.oid), tenant.id)
      .read();
    expect(lookup).toMatchObject({ userId: user.id });
    const { resource: cache } = await services.store.container('accounts').item(userTokenCacheId(user.id), tenant.id).read();
    expect(cache.sealed).toMatch(/^v1\./);
    expect(JSON.stringify(cache)).not.toMatch(/refresh_token|RefreshToken|secret/i);
    // The export names the Microsoft person, and holds none of their tokens.
    const exported = await api(host, tokens.access_token, 'GET', `/api/users/${user.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.microsoft).toEqual(user.entra);
    expect(JSON.stringify(exported.body)).not.toMatch(/v1\.[^"]*\.|RefreshToken|id_token/);

    // The second sign-in finds the same user by (tid, oid).
    const again = await roundTrip(tenant.id, 'megan@contoso.example');
    const second = await exchange(again.answer.headers.get('location')!, again.verifier);
    expect((await api(host, second.access_token, 'GET', '/api/me')).body.user.id).toBe(user.id);
  });

  it('the admin role comes from the Roger.Admin app role, or from the group the policy names', async () => {
    const tenant = await boundTenant();
    const admin = await roundTrip(tenant.id, 'admin@contoso.example');
    const adminTokens = await exchange(admin.answer.headers.get('location')!, admin.verifier);
    expect((await api(host, adminTokens.access_token, 'GET', '/api/me')).body.user.role).toBe('admin');

    const member = await roundTrip(tenant.id, 'megan@contoso.example');
    await exchange(member.answer.headers.get('location')!, member.verifier);
    expect((await userOf(tenant.id, 'megan@contoso.example'))!.role).toBe('user');

    // The tenant's admin names the "Print users" group: Megan is an admin at her next sign-in.
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, policy: { ...t.policy, entraAdminGroupId: CONTOSO_PRINT_USERS } }));
    const promoted = await roundTrip(tenant.id, 'megan@contoso.example');
    const promotedTokens = await exchange(promoted.answer.headers.get('location')!, promoted.verifier);
    expect((await api(host, promotedTokens.access_token, 'GET', '/api/me')).body.user.role).toBe('admin');
    // And back, when the group is no longer the admins'.
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, policy: { ...t.policy, entraAdminGroupId: undefined } }));
    const demoted = await roundTrip(tenant.id, 'megan@contoso.example');
    await exchange(demoted.answer.headers.get('location')!, demoted.verifier);
    expect((await userOf(tenant.id, 'megan@contoso.example'))!.role).toBe('user');
  });

  it('refuses an account from an Entra tenant that is not bound, with a clear page, and creates nobody', async () => {
    const tenant = await boundTenant();
    const { answer } = await roundTrip(tenant.id, 'lee@fabrikam.example');
    expect(answer.status).toBe(403);
    const page = await answer.text();
    expect(page).toContain('This Microsoft organisation is not connected to');
    expect(page).toContain(`${tenant.slug} Ltd`);
    expect(await userOf(tenant.id, 'lee@fabrikam.example')).toBeUndefined();
  });

  it('says it in French to a French browser', async () => {
    const tenant = await boundTenant();
    const { callback, ownCookie } = await roundTrip(tenant.id, 'lee@fabrikam.example', { cookie: 'none' });
    // (the first load without the cookie was refused; the pending sign-in is still there)
    const answer = await fetch(callback, { redirect: 'manual', headers: { cookie: ownCookie, 'accept-language': 'fr-CA,fr;q=0.9' } });
    expect(answer.status).toBe(403);
    const page = await answer.text();
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain('Cette organisation Microsoft n’est pas connectée à');
  });

  it('login CSRF: a callback without the binding cookie, or with another browser’s, signs nobody in', async () => {
    const tenant = await boundTenant();
    const none = await roundTrip(tenant.id, 'megan@contoso.example', { cookie: 'none' });
    expect(none.answer.status).toBe(400);
    expect(await none.answer.text()).toContain('started in another browser');
    const other = await none.load('roger_ms_signin=someone-else');
    expect(other.status).toBe(400);
    expect(other.headers.get('set-cookie')).toBeNull(); // the browser's own sign-in, if any, is left alone
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeUndefined();
    // The browser that started it still can.
    expect((await none.load(none.ownCookie)).status).toBe(303);
  });

  it('state: single use (a second callback with the same state is refused), and a tampered state is unknown', async () => {
    const tenant = await boundTenant();
    const first = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(first.answer.status).toBe(303);
    const replay = await first.load(first.ownCookie);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('expired or was used already');

    const second = await roundTrip(tenant.id, 'megan@contoso.example', { cookie: 'none' });
    const tampered = new URL(second.callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const answer = await fetch(tampered, { redirect: 'manual', headers: { cookie: second.ownCookie } });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('expired or was used already');
  });

  it('Microsoft down or silent: a 503 page with Retry-After, nothing written, and the same callback works once it is back', async () => {
    const tenant = await boundTenant();
    const started = await roundTrip(tenant.id, 'megan@contoso.example', { cookie: 'none' });
    entra.failTokenNext(1, 503, 12);
    const down = await started.load(started.ownCookie);
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('12');
    expect(await down.text()).toContain('Microsoft is not answering');
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeUndefined();

    const back = await started.load(started.ownCookie);
    expect(back.status).toBe(303);
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeDefined();
  });

  it('Entra refusing our app registration (an expired client secret) at the callback is a 503 page, not a failed sign-in: the code stays usable', async () => {
    const tenant = await boundTenant();
    const started = await roundTrip(tenant.id, 'megan@contoso.example', { cookie: 'none' });
    entra.failTokenNext(1, 'invalid_client');
    const refused = await started.load(started.ownCookie);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('Microsoft is not answering');
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeUndefined();

    const back = await started.load(started.ownCookie);
    expect(back.status).toBe(303);
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeDefined();
  });

  it('Microsoft’s own error on the callback (the user cancelled) is a kind page', async () => {
    const answer = await fetch(`${host.url}/oauth/microsoft/callback?error=access_denied&error_description=AADSTS65004&state=x`, {
      redirect: 'manual',
      headers: { 'accept-language': 'fr' },
    });
    expect(answer.status).toBe(403);
    const page = await answer.text();
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain('Connexion annulée');
  });

  it('just-in-time provisioning off: an unknown person is refused; a username already taken gets a suffix', async () => {
    const closed = await boundTenant(CONTOSO, { jitProvisioning: false });
    const refused = await roundTrip(closed.id, 'megan@contoso.example');
    expect(refused.answer.status).toBe(403);
    expect(await refused.answer.text()).toContain('do not have an account');

    const open = await boundTenant();
    const admin = (await readUser(services.store, open.id, open.adminId))!;
    // The local owner is "owner"; a Contoso person whose name is also "owner" gets owner-2.
    entra.addAccount('owner@contoso.example', { tenantId: CONTOSO, displayName: 'Other Owner', email: 'owner@contoso.example' });
    const { answer } = await roundTrip(open.id, 'owner@contoso.example');
    expect(answer.status).toBe(303);
    expect((await userOf(open.id, 'owner@contoso.example'))!.username).toBe('owner-2');
    expect(admin.username).toBe('owner');
  });

  it('an email another user of the tenant holds is never matched nor taken: the person is refused, and nothing is left claimed', async () => {
    const tenant = await boundTenant('');
    const owner = await mobileSignIn(host, tenant.slug, { email: '', username: 'owner', fullName: '', password: 'owner-pass-1' });
    const local = await api(host, owner.access_token, 'POST', '/api/users', {
      email: 'megan@contoso.example',
      username: 'megan-local',
      fullName: 'Someone Else',
      role: 'user',
      password: 'local-pass-12',
    });
    expect(local.status, JSON.stringify(local.body)).toBe(201);
    await bindEntraTenant(services, tenant.id, CONTOSO, { kind: 'admin-consent', adminUserId: tenant.adminId }, silentLog);

    const { answer } = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(answer.status).toBe(409);
    expect(await answer.text()).toContain('already uses your email address');
    // Only the local user has the address; the Microsoft person got no user, look-up or username.
    expect((await userOf(tenant.id, 'megan@contoso.example'))!.id).toBe(local.body.id);
    const accounts = services.store.container('accounts');
    const oid = entra.addAccount('megan@contoso.example').toLowerCase();
    expect((await accounts.item(entraIdentityId(CONTOSO, oid), tenant.id).read()).resource).toBeUndefined();
    expect((await accounts.item('login:megan', tenant.id).read()).resource).toBeUndefined();
  });

  it('first admin binds a tenant created for it; of two first admins from different organisations one wins', async () => {
    const tenant = await boundTenant('');
    await updateTenant(services.store, tenant.id, (t) => ({ ...t, bindEntraOnFirstAdminSignIn: true }));
    // Not an admin in Entra: no binding.
    const member = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(member.answer.status).toBe(403);

    const [contoso, fabrikam] = await Promise.all([
      roundTrip(tenant.id, 'admin@contoso.example'),
      roundTrip(tenant.id, 'admin@fabrikam.example'),
    ]);
    const statuses = [contoso.answer.status, fabrikam.answer.status].sort();
    expect(statuses).toEqual([303, 403]);
    const bound = (await readTenantFresh(services.store, tenant.id))!;
    expect(bound.entraTenantIds).toHaveLength(1);
    expect(bound.bindEntraOnFirstAdminSignIn).toBeUndefined();
    const winner =
      contoso.answer.status === 303 ? { upn: 'admin@contoso.example', tid: CONTOSO } : { upn: 'admin@fabrikam.example', tid: FABRIKAM };
    expect(bound.entraTenantIds).toEqual([winner.tid]);
    expect((await userOf(tenant.id, winner.upn))!.role).toBe('admin');
  });

  it('erasure takes the (tid, oid) look-up and the sealed MSAL cache with the user; the person is new at their next sign-in', async () => {
    const tenant = await boundTenant('');
    // The owner signs in with their password before the tenant is bound (then it defaults to Microsoft only).
    const owner = await mobileSignIn(host, tenant.slug, { email: '', username: 'owner', fullName: '', password: 'owner-pass-1' });
    await bindEntraTenant(services, tenant.id, CONTOSO, { kind: 'admin-consent', adminUserId: tenant.adminId }, silentLog);
    const first = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(first.answer.status).toBe(303);
    const user = (await userOf(tenant.id, 'megan@contoso.example'))!;
    expect((await api(host, owner.access_token, 'DELETE', `/api/users/${user.id}`)).status).toBe(204);
    const accounts = services.store.container('accounts');
    expect((await accounts.item(userTokenCacheId(user.id), tenant.id).read()).resource).toBeUndefined();
    expect((await accounts.item(entraIdentityId(CONTOSO, user.entra!.oid), tenant.id).read()).resource).toBeUndefined();
    const again = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(again.answer.status).toBe(303);
    const reborn = (await userOf(tenant.id, 'megan@contoso.example'))!;
    expect(reborn.id).not.toBe(user.id);
    expect(reborn.username).toBe('megan');
  });

  describe('Connect Microsoft Entra ID (admin consent)', () => {
    /** The admin asks for the consent URL, the Entra admin consents; returns the consent callback's answer (not followed). */
    async function consent(adminUpn: string) {
      const tenant = await boundTenant('');
      const owner = await mobileSignIn(host, tenant.slug, { email: '', username: 'owner', fullName: '', password: 'owner-pass-1' });
      const started = await api(host, owner.access_token, 'POST', '/api/tenant/entra/connect');
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      entra.setDefaultAccount(adminUpn);
      const consented = await browserGet(started.body.adminConsentUrl);
      expect(consented.status).toBe(302);
      const callback = new URL(consented.location!);
      expect(`${callback.origin}${callback.pathname}`).toBe(`${host.url}/api/tenant/entra/callback`);
      return { tenant, owner, callback };
    }

    /** The browser goes on: the verification sign-in at the consenting tid, as `upn`, back to our sign-in callback. */
    async function verify(callback: URL, upn: string) {
      const answer = await fetch(callback, { redirect: 'manual' });
      expect(answer.status).toBe(303);
      const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
      entra.setDefaultAccount(upn);
      const signIn = await browserGet(answer.headers.get('location')!);
      expect(signIn.status).toBe(302);
      return fetch(signIn.location!, { redirect: 'manual', headers: { cookie } });
    }

    it('binds the consenting organisation after a sign-in there proves it', async () => {
      const { tenant, callback } = await consent('admin@fabrikam.example');
      expect(callback.searchParams.get('tenant')).toBe(FABRIKAM);
      const done = await verify(callback, 'admin@fabrikam.example');
      expect(done.status).toBe(200);
      expect(await done.text()).toContain('now connected to');
      expect((await readTenantFresh(services.store, tenant.id))!.entraTenantIds).toEqual([FABRIKAM]);
      // The state was single use.
      expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400);
    });

    it('a consent callback whose tenant was changed binds nothing: the sign-in there cannot be completed by another organisation', async () => {
      const { tenant, callback } = await consent('admin@fabrikam.example');
      callback.searchParams.set('tenant', CONTOSO);
      // The sign-in runs at Contoso's authority; a Fabrikam account cannot sign in there.
      const answer = await fetch(callback, { redirect: 'manual' });
      expect(answer.status).toBe(303);
      const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
      entra.setDefaultAccount('admin@fabrikam.example');
      const signIn = await browserGet(answer.headers.get('location')!);
      // Entra refuses a foreign account at a tenant authority (AADSTS50020): an error comes back, no code.
      const back = new URL(signIn.location!);
      expect(back.searchParams.get('code')).toBeNull();
      expect(back.searchParams.get('error')).toBeTruthy();
      const done = await fetch(back, { redirect: 'manual', headers: { cookie } });
      expect(done.status).toBeGreaterThanOrEqual(400);
      expect((await readTenantFresh(services.store, tenant.id))!.entraTenantIds ?? []).toEqual([]);
    });

    it('an admin deactivated between starting the consent and its verification sign-in connects nothing', async () => {
      const { tenant, owner, callback } = await consent('admin@fabrikam.example');
      const me = (await api(host, owner.access_token, 'GET', '/api/me')).body.user as { id: string };
      const stored = (await readUser(services.store, tenant.id, me.id))!;
      await updateUser(services.store, stored, (current) => deactivated(current, new Date()));
      const done = await verify(callback, 'admin@fabrikam.example');
      expect(done.status).toBe(403);
      expect((await readTenantFresh(services.store, tenant.id))!.entraTenantIds ?? []).toEqual([]);
    });

    it('refuses the binding when the verification sign-in comes back from another tid', async () => {
      const { tenant, callback } = await consent('admin@contoso.example');
      // A Contoso account at Contoso's authority — but the consent said Fabrikam.
      callback.searchParams.set('tenant', FABRIKAM);
      const answer = await fetch(callback, { redirect: 'manual' });
      const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
      // The authorize URL names Fabrikam; send the Contoso admin to the organizations authority instead, as a tampering browser would.
      const tampered = new URL(answer.headers.get('location')!);
      tampered.pathname = tampered.pathname.replace(FABRIKAM, 'organizations');
      entra.setDefaultAccount('admin@contoso.example');
      const signIn = await browserGet(tampered.toString());
      expect(signIn.status).toBe(302);
      const done = await fetch(signIn.location!, { redirect: 'manual', headers: { cookie } });
      expect(done.status).toBe(403);
      expect((await readTenantFresh(services.store, tenant.id))!.entraTenantIds ?? []).toEqual([]);
    });

    it('Microsoft declining the consent is a kind page', async () => {
      const answer = await fetch(`${host.url}/api/tenant/entra/callback?error=access_denied&state=x`, { redirect: 'manual' });
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain('Sign-in cancelled');
    });
  });

  describe('refresh of a Microsoft user', () => {
    const rolesOf = (accessToken: string) => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).roles;
    const refresh = (refreshToken: string) =>
      tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refreshToken });

    it('reads the role again from Entra at every refresh, and rotates the refresh token', async () => {
      const tenant = await boundTenant();
      const signedIn = await roundTrip(tenant.id, 'megan@contoso.example');
      const tokens = await exchange(signedIn.answer.headers.get('location')!, signedIn.verifier);
      expect(rolesOf(tokens.access_token)).toEqual(['user']);
      const before = entra.stats.tokenRequests;
      await updateTenant(services.store, tenant.id, (t) => ({ ...t, policy: { ...t.policy, entraAdminGroupId: CONTOSO_PRINT_USERS } }));
      const refreshed = await refresh(tokens.refresh_token);
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
      expect(entra.stats.tokenRequests).toBe(before + 1);
      expect(rolesOf(refreshed.body.access_token)).toEqual(['admin']);
      expect(refreshed.body.refresh_token).not.toBe(tokens.refresh_token);
      expect((await userOf(tenant.id, 'megan@contoso.example'))!.role).toBe('admin');
    });

    it('Entra refusing (consent withdrawn) is invalid_grant; Entra down is 503 temporarily_unavailable and the same refresh token works after', async () => {
      const tenant = await boundTenant();
      const signedIn = await roundTrip(tenant.id, 'megan@contoso.example');
      const tokens = await exchange(signedIn.answer.headers.get('location')!, signedIn.verifier);

      entra.failTokenNext(1, 503, 9);
      const down = await refresh(tokens.refresh_token);
      expect(down.status).toBe(503);
      expect(down.body.error).toBe('temporarily_unavailable');
      expect(down.headers.get('retry-after')).toBe('9');
      const back = await refresh(tokens.refresh_token);
      expect(back.status, JSON.stringify(back.body)).toBe(200);

      entra.revokeConsent('megan@contoso.example');
      try {
        const refused = await refresh(back.body.refresh_token);
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe('invalid_grant');
      } finally {
        entra.restoreConsent('megan@contoso.example');
      }
    });
  });

  it('an id_token with another nonce than the sign-in sent (a swapped or replayed token) is refused, and nothing is written', async () => {
    const tenant = await boundTenant();
    const started = await roundTrip(tenant.id, 'megan@contoso.example', { cookie: 'none' });
    entra.wrongNonceNext(1);
    const answer = await started.load(started.ownCookie);
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('Signing in with Microsoft did not succeed');
    expect(await userOf(tenant.id, 'megan@contoso.example')).toBeUndefined();
    // Microsoft's answer was used up: the same callback is not tried again.
    expect((await started.load(started.ownCookie)).status).toBe(400);
  });

  it('a sign-in adds to the user’s MSAL cache, keeping the entries of another account (the one OneDrive was connected with)', async () => {
    const tenant = await boundTenant();
    const first = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(first.answer.status).toBe(303);
    const user = (await userOf(tenant.id, 'megan@contoso.example'))!;
    const microsoft = await services.microsoft();
    const item = services.store.container('accounts').item(userTokenCacheId(user.id), tenant.id);
    const owner = `${tenant.id}|${user.id}`;
    const { resource } = await item.read();
    const cache = JSON.parse(microsoft.cipher.open(resource.sealed, owner));
    cache.RefreshToken['other-account-refresh-token'] = { home_account_id: 'other', credential_type: 'RefreshToken', secret: 'x' };
    await item.replace({ ...resource, sealed: microsoft.cipher.seal(JSON.stringify(cache), owner) });

    const again = await roundTrip(tenant.id, 'megan@contoso.example');
    expect(again.answer.status).toBe(303);
    const after = JSON.parse(microsoft.cipher.open((await item.read()).resource.sealed, owner));
    expect(Object.keys(after.RefreshToken)).toContain('other-account-refresh-token');
    expect(Object.keys(after.RefreshToken).length).toBeGreaterThan(1);
  });

  it('losing Roger.Admin in Entra demotes an admin at the next sign-in, except the tenant’s last admin, who stays (and it is logged)', async () => {
    const tenant = await boundTenant('');
    const owner = await mobileSignIn(host, tenant.slug, { email: '', username: 'owner', fullName: '', password: 'owner-pass-1' });
    await bindEntraTenant(services, tenant.id, CONTOSO, { kind: 'admin-consent', adminUserId: tenant.adminId }, silentLog);
    const contosoAdmin = { tenantId: CONTOSO, displayName: 'Contoso Admin', email: 'admin@contoso.example', admin: true };
    expect((await roundTrip(tenant.id, 'admin@contoso.example')).answer.status).toBe(303);
    const microsoftAdmin = (await userOf(tenant.id, 'admin@contoso.example'))!;
    expect(microsoftAdmin.role).toBe('admin');
    try {
      entra.addAccount('admin@contoso.example', { ...contosoAdmin, roles: [] });
      // Two admins: the Entra role goes, so does the Roger one.
      expect((await roundTrip(tenant.id, 'admin@contoso.example')).answer.status).toBe(303);
      expect((await readUser(services.store, tenant.id, microsoftAdmin.id))!.role).toBe('user');

      // Admin again; then the local owner steps down, leaving the Microsoft admin the last one.
      entra.addAccount('admin@contoso.example', { ...contosoAdmin, roles: ['Roger.Admin'] });
      expect((await roundTrip(tenant.id, 'admin@contoso.example')).answer.status).toBe(303);
      const stepDown = await api(host, owner.access_token, 'PATCH', `/api/users/${tenant.adminId}`, { role: 'user' });
      expect(stepDown.status, JSON.stringify(stepDown.body)).toBe(200);

      entra.addAccount('admin@contoso.example', { ...contosoAdmin, roles: [] });
      const last = await roundTrip(tenant.id, 'admin@contoso.example');
      expect(last.answer.status).toBe(303);
      expect((await readUser(services.store, tenant.id, microsoftAdmin.id))!.role).toBe('admin');
      expect(host.logs.some((line) => line.includes('entra-role-demotion-refused'))).toBe(true);
    } finally {
      entra.addAccount('admin@contoso.example', { ...contosoAdmin, roles: ['Roger.Admin'] });
    }
  });

  it('two sessions of one Microsoft user refreshing at once both succeed, and the stored MSAL cache still works after', async () => {
    const tenant = await boundTenant();
    const sessions = [];
    for (let i = 0; i < 2; i++) {
      const signedIn = await roundTrip(tenant.id, 'megan@contoso.example');
      sessions.push(await exchange(signedIn.answer.headers.get('location')!, signedIn.verifier));
    }
    const refresh = (token: string) => tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: token });
    const together = await Promise.all(sessions.map((session) => refresh(session.refresh_token)));
    expect(together.map((answer) => answer.status)).toEqual([200, 200]);
    const after = await Promise.all(together.map((answer) => refresh(answer.body.refresh_token)));
    expect(after.map((answer) => answer.status)).toEqual([200, 200]);
  });
});

describe('Sign in with Microsoft when Microsoft is slow', () => {
  let slowHost: LocalHost;
  let slowEntra: LocalMicrosoft;
  let slowServices: Services;

  beforeAll(async () => {
    const port = await freePort();
    const config = loadConfig({ PORT: String(port), SERVICEBUS_LOCAL_PORT: '0', MICROSOFT_LOCAL_PORT: '0', ...oauthEnv });
    slowHost = await startLocalHost({
      config,
      table: routeTable,
      // The adapter decides how long MSAL waits for Entra: here half a second.
      adapters: { ...localAdapters, microsoft: (c, now) => openLocalMicrosoftSignIn(c, now, { timeoutMs: 500 }) },
      port,
      log: () => {},
    });
    slowServices = await slowHost.services();
    slowEntra = ((await slowServices.microsoft()) as unknown as { microsoft: LocalMicrosoft }).microsoft;
  });
  afterAll(() => slowHost?.close());

  it('answers a 503 page with Retry-After within the time limit, writes nothing, and the same callback finishes once Microsoft answers', async () => {
    const slug = uniqueName('slow');
    const created = await createTenant({ url: `http://localhost:${slowHost.port}` } as TestHost, slug, {
      email: `owner@${slug}.example`,
      username: 'owner',
      fullName: 'Owner',
      password: 'owner-pass-1',
    });
    await bindEntraTenant(slowServices, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
    const tenant = (await readTenantFresh(slowServices.store, created.id))!;
    const request: AuthorizationRequest = {
      clientId: 'roger-mobile',
      redirectUri: REDIRECT,
      scope: 'jobs',
      codeChallenge: pkce().challenge,
    };
    const started = await startMicrosoftSignIn(slowServices, { tenant, request, loginHint: 'megan@contoso.example', lang: 'en' });
    const callback = (await browserGet(started.url)).location!;
    const cookie = started.setCookie.split(';')[0]!;

    slowEntra.slowTokenNext(1, 5000);
    const begun = Date.now();
    const slow = await fetch(callback, {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(Date.now() - begun).toBeLessThan(4000);
    expect(slow.status).toBe(503);
    expect(Number(slow.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await slow.text()).toContain('Try again in');
    const { resources } = await slowServices.store
      .container('accounts')
      .items.query({
        query: "SELECT c.id FROM c WHERE c.tenantId = @t AND c.type = 'user'",
        parameters: [{ name: '@t', value: tenant.id }],
      })
      .fetchAll();
    expect(resources).toHaveLength(1); // the owner only

    const back = await fetch(callback, {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(back.status).toBe(303);
  });
});

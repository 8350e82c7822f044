import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import { userTokenCacheId, type UserTokenCacheDoc } from '../../shared/microsoft/token-cache.js';
import type { AuthorizationRequest } from '../../shared/oauth/authorization-request.js';
import { linkId, linkOwner, type OneDriveLinkDoc } from '../../shared/onedrive/links.js';
import { createTokenCipher } from '../../shared/onedrive/token-cipher.js';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, uniqueName } from '../helpers/fixtures.js';
import { browserGet } from '../helpers/microsoft.js';
import { consentToOneDrive, loadCallback, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, createTenant, mobileSignIn, tokenRequest, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * One Microsoft consent for sign-in and OneDrive (docs/flows.md#onedrive-for-business): "Sign in
 * with Microsoft" asks Entra for `Files.ReadWrite` too, and its callback makes the OneDrive link
 * (Print and Scan ensured) with the account just signed in, unless the user has a connected link
 * already. The sign-in never fails for OneDrive's sake. The Microsoft sign-in is driven as in
 * tests/e2e/microsoft-sign-in.test.ts: our authorization request → startMicrosoftSignIn (the
 * sign-in page's button) → the stand-in over https → our callback with the binding cookie → the
 * client's code → /oauth/token.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const REDIRECT = 'cloud.roger.mobile:/oauth2redirect';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;
const key = { kid: 'combined', key: randomBytes(32).toString('base64') };

describe('one Microsoft consent for sign-in and OneDrive', () => {
  let host: TestHost;
  let services: Services;
  let ms: LocalMicrosoft;

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft({ ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [key] }) }));
    services = await host.services();
  });
  afterAll(() => host?.close());

  /** A tenant bound to Contoso, with a local owner (who enrols the printer), signed in. */
  async function contosoTenant() {
    const slug = uniqueName('onedrive-ms');
    const owner: Person = { email: `owner@${slug}.example`, username: 'owner', fullName: 'Owner', password: 'owner-pass-1' };
    const created = await createTenant(host, slug, owner);
    // Signed in before the binding: a bound tenant signs in with Microsoft only, by default.
    const ownerToken = (await mobileSignIn(host, slug, owner)).access_token;
    await bindEntraTenant(services, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
    return { tenantId: created.id, ownerToken };
  }

  /** A Contoso person no other test uses. */
  function contosoPerson(name: string) {
    const upn = `${uniqueName(name)}@contoso.example`;
    ms.addAccount(upn, { tenantId: CONTOSO, displayName: name, email: upn });
    return upn;
  }

  /** The phone's "Sign in with Microsoft", to the tokens; returns what Entra was asked for too. */
  async function signInWithMicrosoft(tenantId: string, upn: string) {
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
    expect(atEntra.status, atEntra.body).toBe(302);
    const callback = await fetch(atEntra.location!, { redirect: 'manual', headers: { cookie: started.setCookie.split(';')[0]! } });
    expect(callback.status, await callback.clone().text()).toBe(303);
    const code = new URL(callback.headers.get('location')!).searchParams.get('code')!;
    const tokens = await tokenRequest(host, {
      grant_type: 'authorization_code',
      client_id: 'roger-mobile',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const asked = new URL(started.url).searchParams.get('scope')!.split(' ');
    return { ...(tokens.body as { access_token: string; refresh_token: string }), asked };
  }

  const readLink = async (tenantId: string, userId: string) =>
    (await services.store.container('accounts').item(linkId(userId), tenantId).read<OneDriveLinkDoc>()).resource;
  const refreshTokensIn = async (tenantId: string, userId: string) => {
    const { resource } = await services.store.container('accounts').item(userTokenCacheId(userId), tenantId).read<UserTokenCacheDoc>();
    const cache = JSON.parse(createTokenCipher({ keys: [key] }).open(resource!.sealed, linkOwner(tenantId, userId))) as {
      RefreshToken: Record<string, { home_account_id: string }>;
    };
    return Object.values(cache.RefreshToken).map((token) => token.home_account_id);
  };

  it('the Microsoft sign-in asks for Files.ReadWrite and links OneDrive in the same step: connected at once, printing from it works', async () => {
    const { tenantId, ownerToken } = await contosoTenant();
    const upn = contosoPerson('megan');
    const tokens = await signInWithMicrosoft(tenantId, upn);
    expect(tokens.asked).toEqual(expect.arrayContaining(['openid', 'offline_access', 'Files.ReadWrite']));

    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.body.onedrive).toMatchObject({ status: 'connected' });
    expect(ms.listFolder(upn, '')).toEqual(expect.arrayContaining(['Print', 'Scan']));
    // The link names the account the person signed in with; there is one Microsoft token store for both.
    const userId = me.body.user.id as string;
    const link = (await readLink(tenantId, userId))!;
    expect(link.account!.homeAccountId).toBe(`${ms.addAccount(upn).toLowerCase()}.${CONTOSO}`);
    expect(link).not.toHaveProperty('refreshToken');
    expect(await refreshTokensIn(tenantId, userId)).toEqual([link.account!.homeAccountId]);
    expect(host.logs.some((line) => line.includes('onedrive-connected'))).toBe(true);

    // At the printer: the Print folder, and a print from it.
    ms.putFile(upn, 'Print/Minutes.pdf', randomBytes(256));
    const printer = await enrolledPrinter(host, ownerToken, 'Lobby');
    const { token: session } = await approvedSession(host, printer, tokens.access_token);
    const listed = await api(host, session, 'GET', '/api/onedrive/print');
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((item: { name: string }) => item.name)).toEqual(['Minutes.pdf']);
    const printed = await api(host, session, 'POST', '/api/onedrive/print', { itemId: listed.body.items[0].id });
    expect(printed.status, JSON.stringify(printed.body)).toBe(201);

    // The next sign-in leaves a connected link as it is.
    await signInWithMicrosoft(tenantId, upn);
    expect((await readLink(tenantId, userId))!.connectedAt).toBe(link.connectedAt);

    // Disconnecting OneDrive keeps the account the person signs in with: the session still refreshes (roles re-read).
    expect((await api(host, tokens.access_token, 'DELETE', '/api/onedrive')).status).toBe(204);
    expect(await refreshTokensIn(tenantId, userId)).toEqual([link.account!.homeAccountId]);
    const refreshed = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-mobile',
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it('Graph failing during the sign-in does not fail it: signed in, not connected, and connecting later works', async () => {
    const { tenantId } = await contosoTenant();
    const upn = contosoPerson('lee');
    ms.throttleNext(20, 120, 503);
    let tokens;
    try {
      tokens = await signInWithMicrosoft(tenantId, upn);
    } finally {
      ms.throttleNext(0, 0);
    }
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.onedrive).toEqual({ status: 'not-connected' });
    expect(await readLink(tenantId, me.body.user.id)).toBeUndefined();
    const warning = host.logs.find((line) => line.includes('onedrive-not-connected-at-sign-in'))!;
    expect(warning).toContain('unavailable');
    expect(warning).not.toContain(upn);

    // The app's "Connect OneDrive" still works for this user, with the same Microsoft account.
    const { callbackUrl } = await consentToOneDrive(host, ms, tokens.access_token, upn);
    expect((await loadCallback(callbackUrl)).status).toBe(200);
    expect((await api(host, tokens.access_token, 'GET', '/api/me')).body.onedrive).toMatchObject({ status: 'connected' });
    expect(await refreshTokensIn(tenantId, me.body.user.id)).toHaveLength(1);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userTokenCacheId, type UserTokenCacheDoc } from '../../shared/microsoft/token-cache.js';
import { linkId, linkOwner, saveLink, type OneDriveLinkDoc } from '../../shared/onedrive/links.js';
import { createTokenCipher } from '../../shared/onedrive/token-cipher.js';
import type { Services } from '../../shared/services.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, freshTenant, uniqueName } from '../helpers/fixtures.js';
import { startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * Links stored before OneDrive used MSAL (docs/flows.md#onedrive-for-business) hold a sealed
 * Entra refresh token of their own, from a consent that asked for `Files.ReadWrite
 * offline_access` only (no `openid`, so Entra's answers carry no id_token). On first use MSAL
 * redeems it into the user's sealed MSAL cache (acquireTokenByRefreshToken) and the link names
 * the account from then on, without the bare token. The old tokens are made here as the old
 * client made them: plain RFC 6749 requests to the stand-in's token endpoint.
 */
const admin: Person = { email: 'ada@migrated.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@migrated.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };
const key = { kid: 'before-msal', key: randomBytes(32).toString('base64') };
const cipher = createTokenCipher({ keys: [key] });

describe('OneDrive links from before MSAL', () => {
  let host: TestHost;
  let services: Services;
  let ms: LocalMicrosoft;
  let registration: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft({ ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [key] }) }));
    services = await host.services();
    registration = ((await services.onedrive()) as unknown as { registration: typeof registration }).registration;
  });
  afterAll(() => host?.close());

  /** The old connection: authorization code + PKCE and a refresh token, as the hand-written client did it, and the link it stored. */
  async function oldLink(tenantId: string, userId: string, upn: string) {
    ms.setDefaultAccount(upn);
    ms.putFile(upn, 'Print/Menu.pdf', randomBytes(64));
    ms.putFile(upn, 'Scan/.keep', Buffer.from('x'));
    const verifier = randomBytes(32).toString('base64url');
    const redirectUri = `${host.url}/api/onedrive/callback`;
    const authorize = new URL(`${ms.authority}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: registration.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope: 'Files.ReadWrite offline_access',
      state: 'old-state',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    const consent = await fetch(authorize, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(`${ms.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: registration.clientId,
        client_secret: registration.clientSecret,
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        scope: 'Files.ReadWrite offline_access',
      }),
    });
    const tokens = (await token.json()) as { access_token: string; refresh_token: string; id_token?: string };
    expect(tokens.refresh_token).toBeDefined();
    expect(tokens.id_token).toBeUndefined();
    const folder = async (name: string) =>
      (
        (await (
          await fetch(`${ms.graphUrl}/v1.0/me/drive/root:/${name}`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
        ).json()) as { id: string }
      ).id;
    const time = new Date().toISOString();
    await saveLink(services.store, {
      tenantId,
      userId,
      status: 'connected',
      refreshToken: cipher.seal(tokens.refresh_token, linkOwner(tenantId, userId)),
      printFolderId: await folder('Print'),
      scanFolderId: await folder('Scan'),
      connectedAt: time,
      updatedAt: time,
    });
    return tokens.refresh_token;
  }

  const readLink = async (tenantId: string, userId: string) =>
    (await services.store.container('accounts').item(linkId(userId), tenantId).read<OneDriveLinkDoc>()).resource!;
  const readCache = async (tenantId: string, userId: string) =>
    (await services.store.container('accounts').item(userTokenCacheId(userId), tenantId).read<UserTokenCacheDoc>()).resource;

  it('keeps working: the first use moves the refresh token into the user’s MSAL cache and drops it from the link; MSAL serves from then on', async () => {
    const tenant = await freshTenant(host, 'migrated', admin, [user]);
    const uma = tenant.users[0]!;
    const upn = `${uniqueName('uma')}@migrated.example`;
    const refreshToken = await oldLink(tenant.id, uma.id, upn);
    expect(await readCache(tenant.id, uma.id)).toBeUndefined();

    // At the printer: the Print folder, through the old link.
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Hall');
    const { token: session } = await approvedSession(host, printer, uma.token);
    const listed = await api(host, session, 'GET', '/api/onedrive/print');
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(listed.body.items.map((item: { name: string }) => item.name)).toEqual(['Menu.pdf']);

    const link = await readLink(tenant.id, uma.id);
    expect(link).not.toHaveProperty('refreshToken');
    expect(link).toMatchObject({ status: 'connected', account: { homeAccountId: expect.stringMatching(/^[\w-]+\.[\w-]+$/) } });
    const cache = JSON.parse(cipher.open((await readCache(tenant.id, uma.id))!.sealed, linkOwner(tenant.id, uma.id))) as {
      RefreshToken: Record<string, { home_account_id: string; secret: string }>;
    };
    const [stored] = Object.values(cache.RefreshToken);
    expect(stored!.home_account_id).toBe(link.account!.homeAccountId);
    // Entra rotated it on the way in; MSAL keeps the new one.
    expect(stored!.secret).not.toBe(refreshToken);
    expect(host.logs.some((line) => line.includes('onedrive-link-migrated'))).toBe(true);

    // The next requests go through MSAL alone: the print from the folder works, the link stays as it is.
    const printed = await api(host, session, 'POST', '/api/onedrive/print', { itemId: listed.body.items[0].id });
    expect(printed.status, JSON.stringify(printed.body)).toBe(201);
    expect(await readLink(tenant.id, uma.id)).toMatchObject({ account: link.account });
    // A job uploaded from the phone lands in the same Print folder.
    const job = await api(host, uma.token, 'POST', '/api/jobs', { fileName: 'Later.pdf', size: 5 });
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    expect(job.body.upload.url).toEqual(expect.any(String));
  });

  it('a refresh token Entra no longer accepts: 409 onedrive-reconnect-required, and the dead token is dropped', async () => {
    const tenant = await freshTenant(host, 'migrated', admin, [user]);
    const uma = tenant.users[0]!;
    const upn = `${uniqueName('uma')}@migrated.example`;
    await oldLink(tenant.id, uma.id, upn);
    ms.revokeConsent(upn);

    const refused = await api(host, uma.token, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 5 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      type: 'tag:roger.cloud,2026:problems/onedrive-reconnect-required',
      connect: '/api/onedrive/connect',
    });
    const link = await readLink(tenant.id, uma.id);
    expect(link.status).toBe('reconnect-required');
    expect(link).not.toHaveProperty('refreshToken');
    expect(link).not.toHaveProperty('account');
    expect(await readCache(tenant.id, uma.id)).toBeUndefined();
  });
});

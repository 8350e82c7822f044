import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/logging/logger.js';
import { tokenResponse } from '../../shared/oauth/token-response.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh, updateTenant } from '../../shared/tenants/tenants.js';
import { createUser } from '../../shared/users/users.js';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { enrollPrinter, pinSession } from '../helpers/printer.js';
import { api, mobileSignIn, oauthClient, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Password sign-in obeys the tenant's `signInMethods` in the mobile app and on the web
 * verification page; the printer's PIN and password sign-in (roger-emb with its device token)
 * does not, and someone who only signs in with Microsoft sets a PIN for it in the app.
 * docs/flows.md and docs/security.md, Sign in with Microsoft.
 */
const ann: Person = { email: 'ann@contoso.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob Builder', password: 'bob-password-12', pin: '4826' };
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('password sign-in and the tenant’s sign-in methods', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host?.close());

  /** A tenant with Ann (admin) and Bob (password and PIN), a printer, then connected to an Entra tenant: Microsoft only. */
  async function microsoftOnlyTenant() {
    const tenant = await freshTenant(host, 'msonly', individual(ann), [individual(bob)]);
    const printer = await enrollPrinter(host, tenant.admin.token, 'MFP 2nd floor');
    const services = await host.services();
    await bindEntraTenant(services, tenant.id, crypto.randomUUID(), { kind: 'admin-consent', adminUserId: tenant.admin.id }, quiet);
    // Connecting keeps passwords on (entra-binding.ts); everyone has moved, so passwords go off.
    await updateTenant(services.store, tenant.id, (current) => ({
      ...current,
      policy: { ...current.policy, signInMethods: ['microsoft'] },
    }));
    expect((await api(host, tenant.admin.token, 'GET', '/api/tenant')).body.signInMethods).toEqual(['microsoft']);
    return { ...tenant, printer, bob: tenant.users[0]! };
  }

  async function passwordGrantError(slug: string, person: Pick<Person, 'username' | 'password'>) {
    try {
      await mobileSignIn(host, slug, { ...ann, ...person });
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) return { error: error.error, description: error.error_description };
      throw error;
    }
    throw new Error('expected an OAuth error');
  }

  it('the mobile password grant is refused with unauthorized_client, the same for any username, when password is off', async () => {
    const tenant = await microsoftOnlyTenant();
    const known = await passwordGrantError(tenant.slug, tenant.bob.person);
    expect(known.error).toBe('unauthorized_client');
    expect(known.description).toContain('Sign in with Microsoft');
    // Nobody, a wrong password, a known name: one answer, decided before any user is looked up.
    expect(await passwordGrantError(tenant.slug, { username: 'nobody-at-all', password: 'whatever-123' })).toEqual(known);
    expect(await passwordGrantError(tenant.slug, { username: tenant.bob.person.username, password: 'wrong-password' })).toEqual(known);
    // Nothing was recorded on Bob: no failed sign-in, no lockout progress.
    const logins = await api(host, tenant.admin.token, 'GET', `/api/users/${tenant.bob.id}/logins`);
    expect(logins.body.items).toHaveLength(1); // the fixture's own sign-in, before the tenant was connected
    // An unknown organization is still the generic invalid_grant.
    expect((await passwordGrantError('no-such-org-anywhere', tenant.bob.person)).error).toBe('invalid_grant');
  });

  it('with both methods allowed, the password grant works again', async () => {
    const tenant = await microsoftOnlyTenant();
    const patched = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { signInMethods: ['microsoft', 'password'] } });
    expect(patched.status).toBe(200);
    const tokens = await mobileSignIn(host, tenant.slug, tenant.bob.person);
    expect((await api(host, tokens.access_token, 'GET', '/api/me')).status).toBe(200);
  });

  it('the printer’s PIN and password sign-in is unchanged for a Microsoft-only tenant', async () => {
    const tenant = await microsoftOnlyTenant();
    const session = await pinSession(host, tenant.printer, tenant.bob.person.username, tenant.bob.person.pin!);
    expect((await api(host, session, 'GET', '/api/me')).body).toMatchObject({ kind: 'session', user: { id: tenant.bob.id } });
    const byPassword = await pinSession(host, tenant.printer, tenant.bob.person.username, tenant.bob.person.password);
    expect(byPassword).toEqual(expect.any(String));
  });

  it('someone with only a Microsoft account sets a first PIN in the app, then signs in at the printer with it', async () => {
    const tenant = await microsoftOnlyTenant();
    const services = await host.services();
    const stored = (await readTenantFresh(services.store, tenant.id))!;
    // As Microsoft just-in-time provisioning leaves a person: no Roger password, no PIN.
    const carol = await createUser(services, tenant.id, stored.policy, {
      email: `carol-${tenant.slug}@contoso.test`,
      username: `carol-${tenant.slug}`,
      fullName: 'Carol Microsoft',
      role: 'user',
    });
    const { access_token: token } = await tokenResponse(services, {
      sub: carol.id,
      client_id: 'roger-mobile',
      scope: 'jobs offline_access',
      tid: tenant.id,
      roles: ['user'],
    });
    expect((await api(host, token, 'GET', '/api/me')).body.user).toMatchObject({ hasPin: false, hasPassword: false });

    expect((await api(host, token, 'PUT', '/api/me/pin', { pin: '12' })).status).toBe(400); // the schema: 4 digits at least
    expect((await api(host, token, 'PUT', '/api/me/pin', { pin: '975318' })).status).toBe(204);
    expect((await api(host, token, 'GET', '/api/me')).body.user).toMatchObject({ hasPin: true, hasPassword: false });
    expect(await pinSession(host, tenant.printer, carol.username, '975318')).toEqual(expect.any(String));

    // Once there is a PIN, changing it needs the current one, like for everyone.
    const withoutCurrent = await api(host, token, 'PUT', '/api/me/pin', { pin: '864200' });
    expect(withoutCurrent.status).toBe(400);
    expect((await api(host, token, 'PUT', '/api/me/pin', { current: '000000', pin: '864200' })).status).toBe(403);
    expect((await api(host, token, 'PUT', '/api/me/pin', { current: '975318', pin: '864200' })).status).toBe(204);
    expect(await pinSession(host, tenant.printer, carol.username, '864200')).toEqual(expect.any(String));
  });

  it('the web verification page refuses password sign-in for a Microsoft-only tenant, and says why', async () => {
    const tenant = await microsoftOnlyTenant();
    const desktop = await oauthClient(host, 'roger-desktop');
    const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs' });
    const get = await fetch(`${host.url}/device`);
    const csrf = /roger_device_csrf=([^;]+)/.exec(get.headers.get('set-cookie')!)![1]!;
    const post = (fields: Record<string, string>) =>
      fetch(`${host.url}/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `roger_device_csrf=${csrf}` },
        body: new URLSearchParams({ csrf, user_code: authorization.user_code, tenant: tenant.slug, ...fields }).toString(),
      });
    for (const person of [tenant.bob.person, { username: 'nobody-at-all', password: 'whatever-123' }]) {
      const refused = await post({ username: person.username, password: person.password });
      expect(refused.status).toBe(403);
      const page = await refused.text();
      expect(page).toContain('This organization signs in with Microsoft');
      expect(page).not.toContain('The organization, username or password is not right');
    }
    expect(host.logs.join('\n')).toMatch(/device-page-sign-in .*outcome=password-off/);

    // Allowed again, the same form signs Bob in.
    await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { signInMethods: ['microsoft', 'password'] } });
    const signedIn = await post({ username: tenant.bob.person.username, password: tenant.bob.person.password });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain('Approve');
    // The refusals answered nothing: the desktop's request is still pending.
    const poll = await tokenRequest(host, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: 'roger-desktop',
      device_code: authorization.device_code,
    });
    expect(poll.body.error).toBe('authorization_pending');
  });
});

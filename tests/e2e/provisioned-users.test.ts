import { describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import { deactivated } from '../../shared/users/activation.js';
import { entraIdentityId } from '../../shared/users/entra-identity.js';
import { claimExternalId } from '../../shared/users/external-id.js';
import { writeLoginRecord } from '../../shared/users/login-records.js';
import { defaultTenantPolicy } from '../../shared/tenants/policy.js';
import { createUser, readUser, updateUser, type UserDoc } from '../../shared/users/users.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { uniqueName } from '../helpers/fixtures.js';
import { microsoftTestHost, redeemCode, toCallback } from '../helpers/microsoft-round-trip.js';
import { api, createTenant, mobileSignIn, tokenRequest } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { readLogins } from '../races/race-kit.js';

/**
 * What SCIM provisioning means for the rest of the app (docs/provisioning.md, docs/security.md):
 * a provisioned user whose `externalId` is their Entra object id signs in with Microsoft at once,
 * even with just-in-time provisioning off; a deactivated one is refused at Microsoft's callback
 * and at the refresh; the admin group owns a provisioned user's role; the admin API leaves what
 * the identity provider owns alone (409 managed-by-directory). Users get their SCIM profile as
 * the SCIM code writes it: `updateUser` with `scim` and the look-up item of their externalId.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const ADMIN_GROUP = '5a1f3c7e-9b2d-4e6a-8c0f-1d3b5e7a9c2e';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

let host: TestHost;
let services: Services;
let entra: LocalMicrosoft;
microsoftTestHost((started) => ({ host, services, entra } = started));

/** A tenant bound to Contoso, with its password admin signed in. */
async function contosoTenant(policy: Record<string, unknown>) {
  const slug = uniqueName('prov');
  const owner = { email: `owner@${slug}.example`, username: 'owner', fullName: 'Owner', password: 'owner-pass-12' };
  const created = await createTenant(host, slug, owner, policy);
  await bindEntraTenant(services, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
  const signedIn = await mobileSignIn(host, slug, owner);
  return { ...created, adminToken: signedIn.access_token };
}

/** A Contoso account in the stand-in, and the user the identity provider provisioned for it (externalId = oid). */
async function provisioned(tenantId: string, options: { roles?: string[] } = {}) {
  const name = uniqueName('dana');
  const upn = `${name}@contoso.example`;
  const oid = entra.addAccount(upn, { tenantId: CONTOSO, displayName: 'Dana Directory', email: upn, roles: options.roles ?? [] });
  const tenant = (await readTenantFresh(services.store, tenantId))!;
  const user = await createUser(services, tenantId, tenant.policy, {
    email: upn,
    username: name,
    fullName: 'Dana Directory',
    role: 'user',
  });
  return { upn, oid, user: await provide(user, oid), username: name };
}

/** A Contoso account signed in once with Microsoft, its user created just in time (role user). */
async function microsoftUser(tenantId: string) {
  const upn = `${uniqueName('megan')}@contoso.example`;
  const oid = entra.addAccount(upn, { tenantId: CONTOSO, displayName: 'Megan', email: upn, roles: [] });
  const signedIn = await microsoftSignIn(tenantId, upn);
  expect(signedIn.answer.status).toBe(303);
  const me = await api(host, signedIn.tokens!.access_token, 'GET', '/api/me');
  const user = (await readUser(services.store, tenantId, me.body.user.id as string))!;
  return { upn, oid, user, refreshToken: signedIn.tokens!.refresh_token };
}

/** What a SCIM write gives a user it starts managing: a profile, and the look-up of its externalId. */
async function provide(user: UserDoc, externalId: string): Promise<UserDoc> {
  await claimExternalId(services.store, user.tenantId, externalId, user.id);
  const scim = { userName: user.email, externalId, createdBy: 'scim-token-test', updatedAt: services.now().toISOString() };
  return (await updateUser(services.store, await stored(user), (current) => ({ ...current, scim })))!;
}

/** Sign in with Microsoft as `upn`, through to the tokens (or the callback's refusal). */
async function microsoftSignIn(tenantId: string, upn: string) {
  const trip = await toCallback(services, tenantId, upn);
  const answer = await trip.load();
  if (answer.status !== 303) return { answer, html: await answer.text() };
  return { answer, tokens: await redeemCode(host, answer.headers.get('location')!, trip.verifier) };
}

async function entraLookUps(tenantId: string, userId: string): Promise<number> {
  const { resources } = await services.store
    .container('accounts')
    .items.query<number>({
      query: "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @t AND c.type = 'entra-identity' AND c.userId = @u",
      parameters: [
        { name: '@t', value: tenantId },
        { name: '@u', value: userId },
      ],
    })
    .fetchAll();
  return resources[0] ?? 0;
}

const stored = async (user: UserDoc) => (await readUser(services.store, user.tenantId, user.id))!;

describe('Microsoft sign-in of a provisioned user', () => {
  it('links the user whose externalId is the account’s oid at the first sign-in, with just-in-time provisioning off; one look-up', async () => {
    const tenant = await contosoTenant({ jitProvisioning: false });
    const dana = await provisioned(tenant.id);

    const first = await microsoftSignIn(tenant.id, dana.upn);
    expect(first.answer.status, 'html' in first ? first.html : '').toBe(303);
    const me = await api(host, first.tokens!.access_token, 'GET', '/api/me');
    expect(me.body.user).toMatchObject({ id: dana.user.id, provisioned: true, active: true });
    expect((await stored(dana.user)).entra).toEqual({ tid: CONTOSO, oid: dana.oid.toLowerCase() });
    const { resource: lookUp } = await services.store.container('accounts').item(entraIdentityId(CONTOSO, dana.oid), tenant.id).read();
    expect(lookUp).toMatchObject({ userId: dana.user.id });

    const again = await microsoftSignIn(tenant.id, dana.upn);
    expect(again.answer.status).toBe(303);
    expect(await entraLookUps(tenant.id, dana.user.id)).toBe(1);
    expect(host.logs.filter((line) => line.includes('entra-linked-provisioned-user') && line.includes(dana.user.id))).toHaveLength(1);
    const users = await api(host, tenant.adminToken, 'GET', '/api/users');
    expect(users.body.items.filter((u: { email: string }) => u.email === dana.upn)).toHaveLength(1);
  });

  it('an account whose oid no provisioned user holds is still not provisioned with just-in-time provisioning off', async () => {
    const tenant = await contosoTenant({ jitProvisioning: false });
    const upn = `${uniqueName('stranger')}@contoso.example`;
    entra.addAccount(upn, { tenantId: CONTOSO, displayName: 'Stranger', email: upn });
    const refused = await microsoftSignIn(tenant.id, upn);
    expect(refused.answer.status).toBe(403);
    expect(refused.html).toContain('You do not have an account');
  });

  it('never links an account someone has used or that holds a credential: a SCIM token cannot hand the password admin to a Microsoft account', async () => {
    const tenant = await contosoTenant({ jitProvisioning: false });
    const token = await api(host, tenant.adminToken, 'POST', '/api/tenant/scim-tokens', { name: 'Entra provisioning' });
    expect(token.status).toBe(201);
    const upn = `${uniqueName('mallory')}@contoso.example`;
    const oid = entra.addAccount(upn, { tenantId: CONTOSO, displayName: 'Mallory', email: upn });
    const takeOver = await api(host, token.body.token, 'PATCH', `/scim/v2/Users/${tenant.adminId}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'externalId', value: oid }],
    });
    expect(takeOver.status, JSON.stringify(takeOver.body)).toBe(200);

    const refused = await microsoftSignIn(tenant.id, upn);
    expect(refused.answer.status).toBe(403);
    expect(refused.html).toContain('You do not have an account');
    const owner = (await readUser(services.store, tenant.id, tenant.adminId))!;
    expect(owner.entra).toBeUndefined();
    expect(await entraLookUps(tenant.id, tenant.adminId)).toBe(0);
    const logged = host.logs.filter((line) => line.includes('entra-link-refused') && line.includes(tenant.adminId));
    expect(logged).toHaveLength(1);
    expect(logged[0]).not.toContain(upn);

    // A provisioned user who signed in once (a login recorded) and lost the link is not linked again either:
    // a login record (shared/users/login-records.ts) or, stored before those, an array in the user item.
    const dana = await provisioned(tenant.id);
    const signedIn = { at: services.now().toISOString(), clientId: 'roger-mobile', success: true, method: 'microsoft' } as const;
    await writeLoginRecord(services.store, await stored(dana.user), signedIn, defaultTenantPolicy);
    expect((await microsoftSignIn(tenant.id, dana.upn)).answer.status).toBe(403);
    expect((await stored(dana.user)).entra).toBeUndefined();
    const dan = await provisioned(tenant.id);
    await updateUser(services.store, await stored(dan.user), (current) => ({ ...current, logins: [signedIn] }));
    expect((await microsoftSignIn(tenant.id, dan.upn)).answer.status).toBe(403);
    expect((await stored(dan.user)).entra).toBeUndefined();
  });

  it('refuses a deactivated user at the callback with a page that says so, and ends their Microsoft refresh', async () => {
    const tenant = await contosoTenant({});
    const megan = await microsoftUser(tenant.id);

    await updateUser(services.store, await stored(megan.user), (current) => deactivated(current, services.now()));

    const refused = await microsoftSignIn(tenant.id, megan.upn);
    expect(refused.answer.status).toBe(403);
    expect(refused.html).toContain('Your organisation has turned your Roger account');
    expect((await readLogins(host, tenant.id, megan.user.id)).filter((login) => login.method === 'microsoft')).toHaveLength(1);
    const refresh = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: megan.refreshToken });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });
});

describe('the role of a provisioned user', () => {
  it('belongs to the admin group where the policy names it: Microsoft sign-in and refresh leave it, the admin API refuses it', async () => {
    const tenant = await contosoTenant({ entraAdminGroupId: ADMIN_GROUP });
    const megan = await microsoftUser(tenant.id);
    await provide(megan.user, megan.oid);
    // Roger.Admin in Entra now, but not in the admin group: the directory's group decides.
    entra.addAccount(megan.upn, { tenantId: CONTOSO, displayName: 'Megan', email: megan.upn, roles: ['Roger.Admin'] });
    const signedIn = await microsoftSignIn(tenant.id, megan.upn);
    expect(signedIn.answer.status).toBe(303);
    expect((await stored(megan.user)).role).toBe('user');
    const refreshed = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-mobile',
      refresh_token: signedIn.tokens!.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect((await stored(megan.user)).role).toBe('user');

    const promoted = await api(host, tenant.adminToken, 'PATCH', `/api/users/${megan.user.id}`, { role: 'admin' });
    expect(promoted.status).toBe(409);
    expect(promoted.body).toMatchObject({ type: 'tag:roger.cloud,2026:problems/managed-by-directory', fields: ['role'] });
    expect(promoted.body.detail).toContain('identity provider');
  });

  it('follows the token as before where the policy names no admin group', async () => {
    const tenant = await contosoTenant({ jitProvisioning: false });
    const dana = await provisioned(tenant.id, { roles: ['Roger.Admin'] });
    expect((await microsoftSignIn(tenant.id, dana.upn)).answer.status).toBe(303);
    expect((await stored(dana.user)).role).toBe('admin');
    const demoted = await api(host, tenant.adminToken, 'PATCH', `/api/users/${dana.user.id}`, { role: 'user' });
    expect(demoted.status, JSON.stringify(demoted.body)).toBe(200);
  });
});

describe('the admin API and a provisioned user', () => {
  it('refuses a change of email, username or full name with 409 managed-by-directory, and says where to change them', async () => {
    const tenant = await contosoTenant({});
    const dana = await provisioned(tenant.id);
    const path = `/api/users/${dana.user.id}`;
    const listed = await api(host, tenant.adminToken, 'GET', `/api/users?q=${dana.username}`);
    expect(listed.body.items[0]).toMatchObject({ id: dana.user.id, provisioned: true, active: true });

    for (const change of [{ email: 'other@contoso.example' }, { username: 'someone-else' }, { fullName: 'Dana Renamed' }]) {
      const refused = await api(host, tenant.adminToken, 'PATCH', path, change);
      expect(refused.status, JSON.stringify(refused.body)).toBe(409);
      expect(refused.body).toMatchObject({
        type: 'tag:roger.cloud,2026:problems/managed-by-directory',
        status: 409,
        fields: Object.keys(change),
      });
      expect(refused.body.detail).toMatch(/provisioned by your identity provider over SCIM; change it there/);
    }
    // The same values are no change; the role is the admin's where no admin group owns it.
    const same = await api(host, tenant.adminToken, 'PATCH', path, { email: dana.upn, role: 'admin' });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.body).toMatchObject({ email: dana.upn, role: 'admin', provisioned: true });
    expect((await stored(dana.user)).fullName).toBe('Dana Directory');

    // Deactivated: the admin sees it.
    await updateUser(services.store, await stored(dana.user), (current) => deactivated(current, services.now()));
    expect((await api(host, tenant.adminToken, 'GET', `/api/users?q=${dana.username}`)).body.items[0]).toMatchObject({ active: false });
    // A user nobody provisions is the admin's as before.
    const local = await api(host, tenant.adminToken, 'POST', '/api/users', {
      email: `${uniqueName('lou')}@local.example`,
      username: uniqueName('lou'),
      fullName: 'Lou Local',
      password: 'lou-password-12',
    });
    expect(local.body).toMatchObject({ provisioned: false, active: true });
    expect((await api(host, tenant.adminToken, 'PATCH', `/api/users/${local.body.id}`, { fullName: 'Lou Renamed' })).status).toBe(200);
  });
});

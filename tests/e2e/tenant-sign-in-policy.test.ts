import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/logging/logger.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { tokenResponse } from '../../shared/oauth/token-response.js';
import { findTenantForSignIn, readTenantFresh } from '../../shared/tenants/tenants.js';
import { signInEntraPerson } from '../../shared/users/entra-identity.js';
import { individual, uniqueName, uniqueTag } from '../helpers/fixtures.js';
import { api, mobileSignIn, OPERATOR_KEY, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The operator's side of Sign in with Microsoft (`POST /api/tenants`: email domains, a
 * Microsoft-first tenant without a local admin) and the admin's (`GET`/`PATCH /api/tenant`: the
 * sign-in policy, and what an admin may not turn off). docs/flows.md, Sign in with Microsoft.
 */
const ann: Person = { email: 'ann@contoso.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('tenant sign-in policy', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host?.close());

  async function operatorCreates(body: Record<string, unknown>) {
    const response = await fetch(`${host.url}/api/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
      body: JSON.stringify({ name: 'Contoso Ltd', ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  }
  const find = async (text: string) => {
    const services = await host.services();
    return (await findTenantForSignIn(services.store, text, services.config.region.id))?.id;
  };

  /** A tenant with Ann as its local admin, signed in; `extra` goes into the creation body. */
  async function withAdmin(extra: Record<string, unknown> = {}) {
    const slug = uniqueName('policy');
    const person = individual(ann);
    const created = await operatorCreates({ slug, admin: person, ...extra });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = (await mobileSignIn(host, slug, person)).access_token;
    return { slug, id: created.body.id as string, token };
  }

  it('email domains: claimed at creation, shown to admins, found on sign-in; a taken one is a 409 that leaves nothing behind', async () => {
    const tag = uniqueTag();
    const domains = [`contoso-${tag}.com`, `contoso-${tag}.fr`];
    const { slug, id, token } = await withAdmin({ emailDomains: domains });
    const shown = await api(host, token, 'GET', '/api/tenant');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      slug,
      emailDomains: domains,
      entraTenantIds: [],
      bindEntraOnFirstAdminSignIn: false,
      signInMethods: ['password'],
    });
    expect(await find(`ann@contoso-${tag}.fr`)).toBe(id);

    const other = uniqueName('other');
    const refused = await operatorCreates({ slug: other, admin: individual(ann), emailDomains: [`other-${tag}.com`, domains[0]] });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(domains[0]);
    expect(await find(other)).toBeUndefined();
    expect(await find(`ann@other-${tag}.com`)).toBeUndefined();
    expect(await find(`ann@${domains[0]}`)).toBe(id);
    // Both names are free for the next try.
    expect((await operatorCreates({ slug: other, admin: individual(ann), emailDomains: [`other-${tag}.com`] })).status).toBe(201);
  });

  it('a failed first admin releases the slug and the email domains too', async () => {
    const tag = uniqueTag();
    const slug = uniqueName('weak');
    const weak = await operatorCreates({
      slug,
      admin: { ...individual(ann), password: 'short-pw1' },
      policy: { passwordMinLength: 20 },
      emailDomains: [`weak-${tag}.com`],
    });
    expect(weak.status).toBe(400);
    expect(await find(`ann@weak-${tag}.com`)).toBeUndefined();
    expect((await operatorCreates({ slug, admin: individual(ann), emailDomains: [`weak-${tag}.com`] })).status).toBe(201);
  });

  it('email domains must be lower-case ASCII domains', async () => {
    for (const bad of [['Contoso.com'], ['ann@contoso.com'], ['bücher.example'], ['contoso'], ['a.com', 'a.com']]) {
      expect((await operatorCreates({ slug: uniqueName('bad'), admin: individual(ann), emailDomains: bad })).status, String(bad)).toBe(400);
    }
  });

  it('a Microsoft-first tenant has no local admin and waits for its first Microsoft admin', async () => {
    const slug = uniqueName('msfirst');
    const created = await operatorCreates({ slug, bindEntraOnFirstAdminSignIn: true, emailDomains: [`${slug}.com`] });
    expect(created.status).toBe(201);
    expect(created.body.adminId).toBeUndefined();
    const tenant = (await readTenantFresh((await host.services()).store, created.body.id))!;
    expect(tenant.bindEntraOnFirstAdminSignIn).toBe(true);
    expect(await find(`ada@${slug}.com`)).toBe(created.body.id);
  });

  it('a tenant nobody could administer or sign in to is refused with a 400', async () => {
    const noAdmin = await operatorCreates({ slug: uniqueName('orphan') });
    expect(noAdmin.status).toBe(400);
    expect(noAdmin.body.detail).toContain('bindEntraOnFirstAdminSignIn');
    const noMicrosoft = await operatorCreates({
      slug: uniqueName('orphan'),
      bindEntraOnFirstAdminSignIn: true,
      policy: { signInMethods: ['password'] },
    });
    expect(noMicrosoft.status).toBe(400);
    const nowhere = await operatorCreates({ slug: uniqueName('orphan'), admin: individual(ann), policy: { signInMethods: ['microsoft'] } });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.detail).toContain('connected to Microsoft Entra ID');
    // A local admin and the wait for a Microsoft one together are fine.
    const both = await operatorCreates({
      slug: uniqueName('both'),
      admin: individual(ann),
      bindEntraOnFirstAdminSignIn: true,
      policy: { signInMethods: ['microsoft', 'password'] },
    });
    expect(both.status).toBe(201);
    expect(both.body.adminId).toEqual(expect.any(String));
  });

  it('an admin changes the sign-in policy, but cannot turn password off before Microsoft Entra ID is connected, nor lock themselves out', async () => {
    const { id, token } = await withAdmin();
    const patch = (policy: Record<string, unknown>) => api(host, token, 'PATCH', '/api/tenant', { policy });

    expect((await patch({ signInMethods: [] })).status).toBe(400);
    expect((await patch({ signInMethods: ['password', 'password'] })).status).toBe(400);
    expect((await patch({ signInMethods: ['sms'] })).status).toBe(400);
    const lockedOut = await patch({ signInMethods: ['microsoft'] });
    expect(lockedOut.status).toBe(409);
    expect(lockedOut.body.detail).toContain('connected to Microsoft Entra ID');
    expect((await api(host, token, 'GET', '/api/tenant')).body.signInMethods).toEqual(['password']);

    // Both is allowed before connecting (the admin is about to connect), and so are the other new fields.
    const both = await patch({ signInMethods: ['microsoft', 'password'], jitProvisioning: false });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ signInMethods: ['microsoft', 'password'], policy: { jitProvisioning: false } });
    const group = crypto.randomUUID();
    expect((await patch({ entraAdminGroupId: group })).body.policy.entraAdminGroupId).toBe(group);
    expect((await patch({ entraAdminGroupId: 'admins' })).status).toBe(400);

    // Once connected, a password-only admin still may not turn passwords off: it would lock them out.
    expect((await patch({ jitProvisioning: true })).body.policy.jitProvisioning).toBe(true);
    const tid = crypto.randomUUID();
    await bindEntraTenant(await host.services(), id, tid, { kind: 'admin-consent', adminUserId: 'x' }, quiet);
    const selfLockout = await patch({ signInMethods: ['microsoft'] });
    expect(selfLockout.status).toBe(409);
    expect(selfLockout.body.detail).toContain('lock you out');

    // An admin who signs in with Microsoft from the connected organisation may: Microsoft alone.
    const microsoftAdmin = await microsoftPerson(id, tid, 'admin');
    const microsoftOnly = await api(host, microsoftAdmin, 'PATCH', '/api/tenant', { policy: { signInMethods: ['microsoft'] } });
    expect(microsoftOnly.status).toBe(200);
    expect(microsoftOnly.body).toMatchObject({ signInMethods: ['microsoft'], entraTenantIds: [tid], bindEntraOnFirstAdminSignIn: false });
    // But not passwords alone: that would lock them out in turn. The password admin's token still works, and may.
    expect((await api(host, microsoftAdmin, 'PATCH', '/api/tenant', { policy: { signInMethods: ['password'] } })).status).toBe(409);
    expect((await patch({ signInMethods: ['password'] })).body.signInMethods).toEqual(['password']);
    // Other policy fields are no sign-in change: the check is not in their way.
    expect((await api(host, microsoftAdmin, 'PATCH', '/api/tenant', { policy: { lockoutThreshold: 6 } })).status).toBe(200);

    const audit = await api(host, token, 'GET', '/api/audit');
    const actions = (audit.body.items as { action: string; details?: Record<string, unknown> }[]).map((r) => [r.action, r.details]);
    expect(actions).toContainEqual(['tenant.policy-changed', { fields: ['policy.signInMethods'] }]);
    expect(actions).toContainEqual(['tenant.entra-bound', { tid, how: 'admin-consent' }]);
  });

  /** A person of the Entra tenant `tid` as their first Microsoft sign-in leaves them (shared/users/entra-identity.ts), with an access token. */
  async function microsoftPerson(tenantId: string, tid: string, role: 'admin' | 'user') {
    const services = await host.services();
    const tenant = (await readTenantFresh(services.store, tenantId))!;
    const tag = uniqueTag();
    const { user } = await signInEntraPerson(
      services.store,
      tenant,
      { tid, oid: crypto.randomUUID(), role, name: `Megan ${tag}`, email: `megan-${tag}@contoso.example` },
      services.now(),
      quiet,
    );
    const tokens = await tokenResponse(services, {
      sub: user.id,
      client_id: 'roger-mobile',
      scope: 'jobs offline_access',
      tid: tenantId,
      roles: [role],
    });
    return tokens.access_token;
  }

  it('connecting a password tenant keeps passwords: both methods, written into the policy', async () => {
    const { id, token } = await withAdmin();
    await bindEntraTenant(await host.services(), id, crypto.randomUUID(), { kind: 'admin-consent', adminUserId: 'x' }, quiet);
    const shown = (await api(host, token, 'GET', '/api/tenant')).body;
    expect(shown.signInMethods).toEqual(['password', 'microsoft']);
    expect(shown.policy.signInMethods).toEqual(['password', 'microsoft']);
  });
});

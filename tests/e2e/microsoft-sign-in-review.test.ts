import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { uniqueName } from '../helpers/fixtures.js';
import { browserGet } from '../helpers/microsoft.js';
import { microsoftTestHost, REDIRECT, standInOf, toCallback, usersByEmail } from '../helpers/microsoft-round-trip.js';
import { api, createTenant, mobileSignIn, oauthEnv } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Sign in with Microsoft at its edges (docs/flows.md, Sign in with Microsoft): the person
 * cancelling at Microsoft, and who may connect a Microsoft organisation to a tenant.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;

let host: TestHost;
let services: Services;
let entra: LocalMicrosoft;
microsoftTestHost((started) => ({ host, services, entra } = started));

async function boundTenant() {
  const slug = uniqueName('msedge');
  const created = await createTenant(host, slug, {
    email: `owner@${slug}.example`,
    username: 'owner',
    fullName: 'Owner',
    password: 'owner-pass-1',
  });
  await bindEntraTenant(services, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
  return created;
}

/** What Entra sends back when the person cancels: the same callback, with an error in place of the code. */
function cancelled(callback: string) {
  const url = new URL(callback);
  url.searchParams.delete('code');
  url.searchParams.set('error', 'access_denied');
  url.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
  return url.toString();
}

describe('the person cancels at Microsoft', () => {
  it('the app is told access_denied with its state and our iss (RFC 6749 §4.1.2.1), and the pending sign-in is spent', async () => {
    const tenant = await boundTenant();
    const trip = await toCallback(services, tenant.id, 'megan@contoso.example');
    const answer = await trip.load(cancelled(trip.callback));
    expect(answer.status).toBe(303);
    expect(answer.headers.get('set-cookie')).toMatch(/roger_ms_signin=;.*Max-Age=0/);
    const back = new URL(answer.headers.get('location')!);
    expect(`${back.protocol}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('app-state');
    expect(back.searchParams.get('iss')).toBe(host.url);
    expect(back.searchParams.get('code')).toBeNull();
    // Spent: the code Entra might still send with that state finds nothing.
    expect((await trip.load()).status).toBe(400);
    expect(await usersByEmail(services, tenant.id, 'megan@contoso.example')).toEqual([]);
  });

  it('from another browser, or without the cookie, it is a page, and the browser’s own sign-in goes on', async () => {
    const tenant = await boundTenant();
    const trip = await toCallback(services, tenant.id, 'megan@contoso.example');
    for (const cookie of ['roger_ms_signin=someone-else', undefined]) {
      const page = await fetch(cancelled(trip.callback), { redirect: 'manual', headers: cookie ? { cookie } : {} });
      expect(page.status).toBe(403);
      expect(await page.text()).toContain('Sign-in cancelled');
      expect(page.headers.get('set-cookie')).toBeNull();
    }
    expect((await trip.load()).status).toBe(303);
  });
});

describe('who may connect a Microsoft organisation (admin consent, then a sign-in there)', () => {
  /** An owner starts "Connect Microsoft Entra ID", and Contoso's admin consents; returns the consent callback, not loaded. */
  async function consented() {
    const slug = uniqueName('msbind');
    const owner = { email: `owner@${slug}.example`, username: 'owner', fullName: 'Owner', password: 'owner-pass-1' };
    const tenant = await createTenant(host, slug, owner);
    const session = await mobileSignIn(host, slug, owner);
    const started = await api(host, session.access_token, 'POST', '/api/tenant/entra/connect');
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    entra.setDefaultAccount('admin@contoso.example');
    const consent = await browserGet(started.body.adminConsentUrl);
    expect(consent.status).toBe(302);
    return { tenant, owner: session.access_token, callback: consent.location! };
  }

  /** The browser goes on to the verification sign-in at the consented tid, as `upn`. */
  async function verifyAs(callback: string, upn: string) {
    const answer = await fetch(callback, { redirect: 'manual' });
    expect(answer.status).toBe(303);
    const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
    entra.setDefaultAccount(upn);
    try {
      const signIn = await browserGet(answer.headers.get('location')!);
      expect(signIn.status).toBe(302);
      return await fetch(signIn.location!, { redirect: 'manual', headers: { cookie } });
    } finally {
      entra.setDefaultAccount('user@contoso.example');
    }
  }

  const boundIds = async (tenantId: string) => (await readTenantFresh(services.store, tenantId))!.entraTenantIds ?? [];

  it('a member of the consented organisation who is no admin there cannot finish it: a page, nothing bound', async () => {
    const { tenant, callback } = await consented();
    const done = await verifyAs(callback, 'megan@contoso.example');
    expect(done.status).toBe(403);
    expect(await done.text()).toContain('Nothing was connected');
    expect(await boundIds(tenant.id)).toEqual([]);
  });

  it('a directory admin (wids) binds without the app role; a guest with the app role does not', async () => {
    entra.addAccount('it@contoso.example', { tenantId: CONTOSO, displayName: 'IT', admin: true });
    const first = await consented();
    const done = await verifyAs(first.callback, 'it@contoso.example');
    expect(done.status).toBe(200);
    expect(await boundIds(first.tenant.id)).toEqual([CONTOSO]);

    entra.addAccount('partner@contoso.example', { tenantId: CONTOSO, displayName: 'Partner', roles: ['Roger.Admin'], guest: true });
    const second = await consented();
    const refused = await verifyAs(second.callback, 'partner@contoso.example');
    expect(refused.status).toBe(403);
    expect(await boundIds(second.tenant.id)).toEqual([]);
  });

  it('the Roger admin who started it and stepped down meanwhile binds nothing', async () => {
    const { tenant, owner, callback } = await consented();
    const other = await api(host, owner, 'POST', '/api/users', {
      email: `second@${tenant.slug}.example`,
      username: 'second',
      fullName: 'Second Admin',
      role: 'admin',
      password: 'second-pass-12',
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    expect((await api(host, owner, 'PATCH', `/api/users/${tenant.adminId}`, { role: 'user' })).status).toBe(200);
    const done = await verifyAs(callback, 'admin@contoso.example');
    expect(done.status).toBe(403);
    expect(await done.text()).toContain('Nothing was connected');
    expect(await boundIds(tenant.id)).toEqual([]);
  });
});

describe('Entra’s signing keys not served', () => {
  // A host of its own: the keys are loaded once per process, and this one has not loaded them yet.
  let fresh: TestHost;
  let freshServices: Services;

  beforeAll(async () => {
    fresh = await startTestHost({ env: oauthEnv });
    freshServices = await fresh.services();
  });
  afterAll(() => fresh?.close());

  it('is a 503 before the code is redeemed, so reloading the page, as it says, finishes the sign-in', async () => {
    const slug = uniqueName('mskeys');
    const created = await createTenant(fresh, slug, {
      email: `owner@${slug}.example`,
      username: 'owner',
      fullName: 'Owner',
      password: 'owner-pass-1',
    });
    await bindEntraTenant(freshServices, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
    const trip = await toCallback(freshServices, created.id, 'megan@contoso.example');
    const standIn = await standInOf(freshServices);
    const tokenRequests = standIn.stats.tokenRequests;
    standIn.failKeysNext(1, 7);
    const down = await trip.load();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('7');
    expect(await down.text()).toContain('Microsoft is not answering');
    expect(standIn.stats.tokenRequests).toBe(tokenRequests); // the code was not spent
    const back = await trip.load();
    expect(back.status).toBe(303);
    expect(new URL(back.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

import { describe, expect, it } from 'vitest';
import { userTokenCacheId } from '../../shared/microsoft/token-cache.js';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant } from '../../shared/tenants/entra-binding.js';
import { entraIdentityId } from '../../shared/users/entra-identity.js';
import { uniqueName } from '../helpers/fixtures.js';
import { standInOf, toCallback, usersByEmail } from '../helpers/microsoft-round-trip.js';
import { api, createTenant, mobileSignIn, oauthEnv } from '../helpers/roger.js';
import { inContainer, isWrite, type CosmosRequest } from './cosmos-fault-proxy.js';
import { faultyStoreHostForFile, type FaultyStoreHost } from './faulty-store.js';

/**
 * Sign in with Microsoft over a store that fails part-way (docs/flows.md, Sign in with Microsoft):
 * a user created just in time is created whole or not at all, and an erasure that lands while a
 * sign-in is finishing leaves none of the person's Microsoft tokens behind.
 */
const CONTOSO = '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a';
const silentLog = { info: () => {}, warn: () => {}, error: () => {} } as never;

const onItem = (prefix: string, write: boolean) => (request: CosmosRequest) =>
  inContainer('accounts')(request) &&
  (write ? isWrite(request) : request.method === 'GET') &&
  decodeURIComponent(request.path).includes(`/docs/${prefix}`);

describe('Sign in with Microsoft when the store fails part-way', () => {
  let faulty: FaultyStoreHost;
  let services: Services;
  faultyStoreHostForFile(oauthEnv, (started) => ({ faulty, services } = started));

  async function tenantWithOwner() {
    const slug = uniqueName('msfault');
    const owner = { email: `owner@${slug}.example`, username: 'owner', fullName: 'Owner', password: 'owner-pass-1' };
    const created = await createTenant(faulty.host, slug, owner);
    // The owner signs in with their password before the binding (a bound tenant defaults to Microsoft only).
    const session = await mobileSignIn(faulty.host, slug, owner);
    await bindEntraTenant(services, created.id, CONTOSO, { kind: 'admin-consent', adminUserId: created.adminId }, silentLog);
    return { ...created, ownerToken: session.access_token };
  }

  it('an admin created just in time whose roster write fails leaves no user, look-up or login name; the next sign-in makes them whole', async () => {
    const tenant = await tenantWithOwner();
    const entra = await standInOf(services);
    const oid = entra.addAccount('admin@contoso.example').toLowerCase();
    const trip = await toCallback(services, tenant.id, 'admin@contoso.example');
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: onItem('admin-roster', true) });
    const failed = await trip.load();
    expect(failed.status).toBe(503);
    faulty.proxy.clear();

    expect(await usersByEmail(services, tenant.id, 'admin@contoso.example')).toEqual([]);
    const accounts = services.store.container('accounts');
    for (const id of [entraIdentityId(CONTOSO, oid), 'login:admin', 'login:admin@contoso.example']) {
      expect((await accounts.item(id, tenant.id).read()).resource, id).toBeUndefined();
    }

    const again = await toCallback(services, tenant.id, 'admin@contoso.example');
    expect((await again.load()).status).toBe(303);
    const [admin] = await usersByEmail(services, tenant.id, 'admin@contoso.example');
    expect(admin).toMatchObject({ role: 'admin', username: 'admin' });
  });

  it('an erasure that lands between the sign-in finding the user and storing their MSAL cache leaves no cache behind, and no code', async () => {
    const tenant = await tenantWithOwner();
    const first = await toCallback(services, tenant.id, 'megan@contoso.example');
    expect((await first.load()).status).toBe(303);
    const [megan] = await usersByEmail(services, tenant.id, 'megan@contoso.example');

    // The next sign-in's first read of the cache is held back (throttled) while the admin erases Megan.
    const trip = await toCallback(services, tenant.id, 'megan@contoso.example');
    faulty.proxy.inject({ fault: { kind: 'throttle', retryAfterMs: 3000 }, times: 1, match: onItem('msal:', false) });
    const answer = trip.load();
    for (let i = 0; i < 100 && !faulty.proxy.requests.some((r) => r.fault === 'throttle'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(faulty.proxy.requests.some((r) => r.fault === 'throttle')).toBe(true);
    expect((await api(faulty.host, tenant.ownerToken, 'DELETE', `/api/users/${megan!.id}`)).status).toBe(204);

    // The client hears access_denied (RFC 6749 §4.1.2.1), as for any erased user: no code.
    const finished = await answer;
    expect(finished.status).toBe(303);
    const back = new URL(finished.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('code')).toBeNull();
    const { resource } = await services.store.container('accounts').item(userTokenCacheId(megan!.id), tenant.id).read();
    expect(resource).toBeUndefined();
    expect(await usersByEmail(services, tenant.id, 'megan@contoso.example')).toEqual([]);
  });
});

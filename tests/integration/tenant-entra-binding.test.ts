import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/logging/logger.js';
import type { Services } from '../../shared/services.js';
import { bindEntraTenant, EntraBindingClosed, FIRST_MICROSOFT_ADMIN, MAX_ENTRA_TENANTS } from '../../shared/tenants/entra-binding.js';
import { allowsSignIn } from '../../shared/tenants/sign-in-methods.js';
import {
  createTenant,
  EmailDomainTaken,
  findTenantForSignIn,
  readTenantFresh,
  removeTenant,
  SlugTaken,
  type Tenant,
} from '../../shared/tenants/tenants.js';
import { listAudit } from '../../shared/audit/audit.js';
import { uniqueName, uniqueTag } from '../helpers/fixtures.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Binding a Roger tenant to Microsoft Entra tenants, and finding a tenant from what a person
 * types on the sign-in page, over the local Cosmos stand-in (its ETags decide every race).
 */
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tid = () => crypto.randomUUID();

describe('Entra binding and sign-in discovery', () => {
  let host: TestHost;
  let services: Services;
  const region = () => services.config.region.id;
  const newTenant = (input: { emailDomains?: string[]; bindEntraOnFirstAdminSignIn?: boolean } = {}) =>
    createTenant(services, { slug: uniqueName('bind'), name: 'Binding test', ...input });

  beforeAll(async () => {
    host = await startTestHost();
    services = await host.services();
  });
  afterAll(() => host?.close());

  describe('bindEntraTenant', () => {
    it('admin consent binds a tid in lower case, is idempotent, and is audited with ids only', async () => {
      const tenant = await newTenant();
      const upper = tid().toUpperCase();
      const bound = await bindEntraTenant(services, tenant.id, upper, { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      expect(bound.entraTenantIds).toEqual([upper.toLowerCase()]);
      const again = await bindEntraTenant(
        services,
        tenant.id,
        upper.toLowerCase(),
        { kind: 'admin-consent', adminUserId: 'admin-2' },
        quiet,
      );
      expect(again.entraTenantIds).toEqual([upper.toLowerCase()]);
      // A second Entra tenant adds to the first.
      const second = tid();
      expect(
        (await bindEntraTenant(services, tenant.id, second, { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet)).entraTenantIds,
      ).toEqual([upper.toLowerCase(), second]);
      const { items } = await listAudit(services.store, tenant.id, { limit: 10 });
      const records = items.filter((r) => r.action === 'tenant.entra-bound');
      expect(records).toHaveLength(2);
      expect(records.map((r) => r.actorId)).toEqual(['admin-1', 'admin-1']);
      expect(records.map((r) => r.details).sort((a, b) => String(a!.tid).localeCompare(String(b!.tid)))).toEqual(
        [
          { tid: upper.toLowerCase(), how: 'admin-consent' },
          { tid: second, how: 'admin-consent' },
        ].sort((a, b) => a.tid.localeCompare(b.tid)),
      );
      expect(allowsSignIn((await readTenantFresh(services.store, tenant.id))!, 'microsoft')).toBe(true);
    });

    it('connecting a password tenant keeps password sign-in on: its people have no other way in yet', async () => {
      const tenant = await newTenant();
      expect(allowsSignIn(tenant, 'password')).toBe(true);
      await bindEntraTenant(services, tenant.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      const connected = (await readTenantFresh(services.store, tenant.id))!;
      expect(connected.policy.signInMethods).toEqual(['password', 'microsoft']);
      // A second Entra tenant changes nothing more; an admin's explicit choice stays theirs.
      await bindEntraTenant(services, tenant.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      expect((await readTenantFresh(services.store, tenant.id))!.policy.signInMethods).toEqual(['password', 'microsoft']);
      const chosen = await createTenant(services, { slug: uniqueName('bind'), name: 'Chosen', policy: { signInMethods: ['password'] } });
      await bindEntraTenant(services, chosen.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      expect((await readTenantFresh(services.store, chosen.id))!.policy.signInMethods).toEqual(['password']);
      // A Microsoft-first tenant (no local people) keeps its Microsoft-only default.
      const first = await newTenant({ bindEntraOnFirstAdminSignIn: true });
      await bindEntraTenant(services, first.id, tid(), { kind: 'first-admin' }, quiet);
      const firstBound = (await readTenantFresh(services.store, first.id))!;
      expect(firstBound.policy.signInMethods).toBeUndefined();
      expect(allowsSignIn(firstBound, 'password')).toBe(false);
    });

    it('refuses what is not a GUID, and an unknown tenant', async () => {
      const tenant = await newTenant();
      for (const bad of ['', 'contoso.onmicrosoft.com', `${tid()}/x`, tid().slice(1)]) {
        await expect(bindEntraTenant(services, tenant.id, bad, { kind: 'first-admin' }, quiet)).rejects.toMatchObject({ kind: 'invalid' });
      }
      await expect(bindEntraTenant(services, 'no-such-tenant', tid(), { kind: 'first-admin' }, quiet)).rejects.toMatchObject({
        kind: 'not-found',
      });
    });

    it('first-admin binding only while the operator left the tenant waiting, and it closes the wait', async () => {
      const ordinary = await newTenant();
      await expect(bindEntraTenant(services, ordinary.id, tid(), { kind: 'first-admin' }, quiet)).rejects.toBeInstanceOf(
        EntraBindingClosed,
      );
      expect((await readTenantFresh(services.store, ordinary.id))!.entraTenantIds).toBeUndefined();

      const waiting = await newTenant({ bindEntraOnFirstAdminSignIn: true });
      const first = tid();
      const bound = await bindEntraTenant(services, waiting.id, first, { kind: 'first-admin' }, quiet);
      expect(bound.entraTenantIds).toEqual([first]);
      expect(bound.bindEntraOnFirstAdminSignIn).toBeUndefined();
      // The same organisation's next admin is simply a member of a bound tenant; another organisation is refused.
      expect((await bindEntraTenant(services, waiting.id, first, { kind: 'first-admin' }, quiet)).entraTenantIds).toEqual([first]);
      await expect(bindEntraTenant(services, waiting.id, tid(), { kind: 'first-admin' }, quiet)).rejects.toBeInstanceOf(EntraBindingClosed);
      const { items } = await listAudit(services.store, waiting.id, { limit: 10 });
      expect(items.filter((r) => r.action === 'tenant.entra-bound').map((r) => [r.actorId, r.details])).toEqual([
        [FIRST_MICROSOFT_ADMIN, { tid: first, how: 'first-admin' }],
      ]);
    });

    it('a tenant holds at most MAX_ENTRA_TENANTS bindings', async () => {
      const tenant = await newTenant();
      for (let i = 0; i < MAX_ENTRA_TENANTS; i++) {
        await bindEntraTenant(services, tenant.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      }
      await expect(
        bindEntraTenant(services, tenant.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet),
      ).rejects.toMatchObject({
        kind: 'conflict',
      });
      expect((await readTenantFresh(services.store, tenant.id))!.entraTenantIds).toHaveLength(MAX_ENTRA_TENANTS);
    });

    it('admin consent also ends the wait for a first admin', async () => {
      const waiting = await newTenant({ bindEntraOnFirstAdminSignIn: true });
      await bindEntraTenant(services, waiting.id, tid(), { kind: 'admin-consent', adminUserId: 'admin-1' }, quiet);
      expect((await readTenantFresh(services.store, waiting.id))!.bindEntraOnFirstAdminSignIn).toBeUndefined();
      await expect(bindEntraTenant(services, waiting.id, tid(), { kind: 'first-admin' }, quiet)).rejects.toBeInstanceOf(EntraBindingClosed);
    });

    it('two first admins from different Entra tenants at once: exactly one binding, the other is refused', async () => {
      for (let round = 0; round < 5; round++) {
        const waiting = await newTenant({ bindEntraOnFirstAdminSignIn: true });
        const tids = [tid(), tid(), tid()];
        const outcomes = await Promise.allSettled(
          tids.map((t) => bindEntraTenant(services, waiting.id, t, { kind: 'first-admin' }, quiet)),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won, `round ${round}`).toHaveLength(1);
        expect(lost.map((o) => o.reason instanceof EntraBindingClosed)).toEqual([true, true]);
        const stored = (await readTenantFresh(services.store, waiting.id))!;
        expect(stored.entraTenantIds).toEqual([tids[outcomes.indexOf(won[0]!)]]);
        expect(stored.bindEntraOnFirstAdminSignIn).toBeUndefined();
        const { items } = await listAudit(services.store, waiting.id, { limit: 10 });
        expect(items.filter((r) => r.action === 'tenant.entra-bound')).toHaveLength(1);
      }
    });

    it('two first admins of the same Entra tenant at once: both succeed, one binding', async () => {
      const waiting = await newTenant({ bindEntraOnFirstAdminSignIn: true });
      const same = tid();
      const results = await Promise.all([0, 1].map(() => bindEntraTenant(services, waiting.id, same, { kind: 'first-admin' }, quiet)));
      for (const result of results) expect(result.entraTenantIds).toEqual([same]);
      expect((await readTenantFresh(services.store, waiting.id))!.entraTenantIds).toEqual([same]);
    });
  });

  describe('findTenantForSignIn and email domains', () => {
    it('finds a tenant by slug or by any address at its email domains, in any case', async () => {
      const tag = uniqueTag();
      const tenant = await newTenant({ emailDomains: [`contoso-${tag}.com`, `Fabrikam-${tag}.example`] });
      expect(tenant.emailDomains).toEqual([`contoso-${tag}.com`, `fabrikam-${tag}.example`]);
      const found = async (text: string) => (await findTenantForSignIn(services.store, text, region()))?.id;
      expect(await found(tenant.slug)).toBe(tenant.id);
      expect(await found(`  ${tenant.slug.toUpperCase()} `)).toBe(tenant.id);
      expect(await found(`ada@contoso-${tag}.com`)).toBe(tenant.id);
      expect(await found(`Ada.Lovelace@CONTOSO-${tag}.COM`)).toBe(tenant.id);
      expect(await found(`@fabrikam-${tag}.example`)).toBe(tenant.id);
      // Only the domain after the last @ counts, and only exactly: no parent or child domains.
      expect(await found(`"a@b"@contoso-${tag}.com`)).toBe(tenant.id);
      expect(await found(`ada@mail.contoso-${tag}.com`)).toBeUndefined();
      expect(await found(`ada@${tag}.com`)).toBeUndefined();
      expect(await found(`contoso-${tag}.com`)).toBeUndefined(); // no @: a slug, and not a valid one
      expect(await found('ada@')).toBeUndefined();
      expect(await found('ada@/x')).toBeUndefined();
      expect(await found('')).toBeUndefined();
    });

    it('a Unicode domain finds the punycode entry', async () => {
      const tag = uniqueTag();
      const tenant = await newTenant({ emailDomains: [`xn--bcher-kva.${tag}.example`] });
      expect((await findTenantForSignIn(services.store, `jo@bücher.${tag}.example`, region()))?.id).toBe(tenant.id);
      expect((await findTenantForSignIn(services.store, `jo@BÜCHER.${tag}.example`, region()))?.id).toBe(tenant.id);
    });

    it('a tenant homed in another region is not found here', async () => {
      const tag = uniqueTag();
      await newTenant({ emailDomains: [`home-${tag}.com`] });
      expect(await findTenantForSignIn(services.store, `ada@home-${tag}.com`, 'elsewhere')).toBeUndefined();
    });

    it('a domain held by another tenant is refused, and nothing of the refused tenant stays', async () => {
      const tag = uniqueTag();
      const holder = await newTenant({ emailDomains: [`taken-${tag}.com`] });
      const slug = uniqueName('refused');
      await expect(
        createTenant(services, { slug, name: 'Refused', emailDomains: [`free-${tag}.com`, `taken-${tag}.com`] }),
      ).rejects.toBeInstanceOf(EmailDomainTaken);
      // The slug and the first domain were claimed and then released: both are free again.
      expect(await findTenantForSignIn(services.store, slug, region())).toBeUndefined();
      expect(await findTenantForSignIn(services.store, `ada@free-${tag}.com`, region())).toBeUndefined();
      expect((await findTenantForSignIn(services.store, `ada@taken-${tag}.com`, region()))?.id).toBe(holder.id);
      const retried = await createTenant(services, { slug, name: 'Retried', emailDomains: [`free-${tag}.com`] });
      expect((await findTenantForSignIn(services.store, `ada@free-${tag}.com`, region()))?.id).toBe(retried.id);
    });

    it('removing a tenant frees its slug and its domains, but never a name another tenant holds', async () => {
      const tag = uniqueTag();
      const tenant = await newTenant({ emailDomains: [`gone-${tag}.com`] });
      expect((await findTenantForSignIn(services.store, `ada@gone-${tag}.com`, region()))?.id).toBe(tenant.id);
      await removeTenant(services.store, tenant);
      expect(await findTenantForSignIn(services.store, `ada@gone-${tag}.com`, region())).toBeUndefined();
      expect(await findTenantForSignIn(services.store, tenant.slug, region())).toBeUndefined();

      // A stale copy that still lists a domain now held by someone else releases nothing of theirs.
      const next = await createTenant(services, { slug: tenant.slug, name: 'Next', emailDomains: [`gone-${tag}.com`] });
      await removeTenant(services.store, tenant as Tenant);
      expect((await findTenantForSignIn(services.store, `ada@gone-${tag}.com`, region()))?.id).toBe(next.id);
      expect((await findTenantForSignIn(services.store, tenant.slug, region()))?.id).toBe(next.id);
      await expect(createTenant(services, { slug: tenant.slug, name: 'Again' })).rejects.toBeInstanceOf(SlugTaken);
    });
  });
});

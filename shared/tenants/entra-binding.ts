import { audit } from '../audit/audit.js';
import { Conflict, Invalid, NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { isBoundEntraTenant, isConnectedToEntra } from './sign-in-methods.js';
import { readTenantFresh, updateTenant, type Tenant } from './tenants.js';

/** A Microsoft Entra tenant id (`tid`): a GUID, kept in lower case. */
const ENTRA_TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The tenant item stays small: a customer with more Entra tenants than this talks to the operator. */
export const MAX_ENTRA_TENANTS = 20;

/** The audit log's actor for a first-admin binding: the person has no Roger user yet when the binding is written. */
export const FIRST_MICROSOFT_ADMIN = 'first-microsoft-admin';

/**
 * How a `tid` came to be bound (docs/security.md, Sign in with Microsoft):
 * - `admin-consent`: a Roger admin of this tenant ran "Connect Microsoft Entra ID", and a
 *   Microsoft sign-in at that `tid` proved the consent came from it;
 * - `first-admin`: the operator created the tenant waiting for its first Microsoft admin
 *   (`bindEntraOnFirstAdminSignIn`), and a person holding `Roger.Admin` signed in first.
 */
export type EntraBindingWay = { readonly kind: 'admin-consent'; readonly adminUserId: string } | { readonly kind: 'first-admin' };

/**
 * The tenant no longer waits for a first Microsoft admin: another person's sign-in (from
 * another Entra tenant) bound it first, or it was never created to wait. The sign-in is refused
 * like one from any unbound `tid`.
 */
export class EntraBindingClosed extends Conflict {
  constructor() {
    super('this tenant is not waiting for its first Microsoft admin');
  }
}

/**
 * Binds a Microsoft Entra tenant to a Roger tenant, in one conditional write (the tenant's
 * ETag, through updateTenant): every binding also clears `bindEntraOnFirstAdminSignIn`, so a
 * tenant that waited for its first admin is bound to exactly one Entra tenant by that wait, and
 * of two first admins racing from different Entra tenants exactly one wins (the other, re-applied
 * on the winner's write, finds the wait over: EntraBindingClosed). A `tid` already bound is no
 * change and no error, whatever the way. Audited by ids only (the `tid`, the admin's user id).
 */
export async function bindEntraTenant(
  services: Pick<Services, 'store' | 'now'>,
  tenantId: string,
  tid: string,
  how: EntraBindingWay,
  log: Logger,
): Promise<Tenant> {
  const entraTenantId = tid.toLowerCase();
  if (!ENTRA_TENANT_ID.test(entraTenantId)) throw new Invalid('a Microsoft Entra tenant id is a GUID');
  const current = await readTenantFresh(services.store, tenantId);
  if (!current) throw new NotFound('the tenant no longer exists');
  if (isBoundEntraTenant(current, entraTenantId)) return current;

  let bound = false;
  const updated = await updateTenant(services.store, tenantId, (tenant) => {
    // Applied again on the latest tenant after a lost race: decide afresh each time.
    bound = false;
    if (isBoundEntraTenant(tenant, entraTenantId)) return tenant;
    if (how.kind === 'first-admin' && tenant.bindEntraOnFirstAdminSignIn !== true) throw new EntraBindingClosed();
    const entraTenantIds = [...(tenant.entraTenantIds ?? []), entraTenantId];
    if (entraTenantIds.length > MAX_ENTRA_TENANTS) {
      throw new Conflict(`a tenant connects at most ${MAX_ENTRA_TENANTS} Microsoft Entra tenants`);
    }
    bound = true;
    const { bindEntraOnFirstAdminSignIn: _closed, ...rest } = tenant;
    // A tenant whose people sign in with passwords keeps them: left to the default, connecting
    // would turn passwords off (sign-in-methods.ts) while nobody has a Microsoft sign-in yet. Its
    // admin turns them off when everyone has moved. A Microsoft-first tenant has no passwords to keep.
    const keepPasswords = !isConnectedToEntra(tenant) && tenant.policy.signInMethods === undefined;
    return {
      ...rest,
      entraTenantIds,
      ...(keepPasswords ? { policy: { ...tenant.policy, signInMethods: ['password' as const, 'microsoft' as const] } } : {}),
    };
  });
  if (!updated) throw new NotFound('the tenant no longer exists');
  if (bound) {
    log.info('tenant-entra-bound', { tenantId, how: how.kind });
    await audit(services.store, log, {
      tenantId,
      actorId: how.kind === 'admin-consent' ? how.adminUserId : FIRST_MICROSOFT_ADMIN,
      action: 'tenant.entra-bound',
      details: { tid: entraTenantId, how: how.kind },
      at: services.now(),
    });
  }
  return updated;
}

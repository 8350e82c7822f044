import type { Store } from '../store/store.js';
import type { PrintRights } from './policy.js';
import { readTenantFresh, updateTenant } from './tenants.js';

/**
 * A person's own entry in the tenant's print rights (`policy.printRights.users`,
 * docs/flows.md#print-rights) is about them: it goes into their export and leaves with their
 * erasure (docs/security.md#data-rights), so an erased user's id is not left in the policy.
 */

/** The user's own print-rights entry, as stored now; undefined when they have none. */
export async function userPrintRights(store: Store, tenantId: string, userId: string): Promise<PrintRights | undefined> {
  return (await readTenantFresh(store, tenantId))?.policy.printRights?.users?.[userId];
}

/** Removes the user's entry (a conditional write on the latest tenant item); 1 when there was one, 0 otherwise. */
export async function forgetUserPrintRights(store: Store, tenantId: string, userId: string): Promise<number> {
  if (!(await userPrintRights(store, tenantId, userId))) return 0;
  let removed = 0;
  await updateTenant(store, tenantId, (tenant) => {
    const rights = tenant.policy.printRights;
    if (!rights?.users?.[userId]) {
      removed = 0;
      return tenant;
    }
    const { [userId]: _gone, ...users } = rights.users;
    removed = 1;
    return { ...tenant, policy: { ...tenant.policy, printRights: { ...rights, users } } };
  });
  return removed;
}

import { Conflict, Invalid } from '../errors.js';
import type { Services } from '../services.js';
import { createUser, CredentialRejected, LoginNameTaken, type NewUser } from '../users/users.js';
import type { TenantPolicy } from './policy.js';
import { createTenant, removeTenant, SlugTaken } from './tenants.js';

/**
 * A tenant, its directory entry and its first admin, all or nothing (docs/flows.md#administration). The first
 * admin's credentials are checked against the tenant's policy before anything is written.
 */
export async function createTenantWithAdmin(
  services: Services,
  input: { slug: string; name: string; policy?: Partial<TenantPolicy>; admin: Omit<NewUser, 'role'> },
) {
  let tenant;
  try {
    tenant = await createTenant(services, input);
  } catch (error) {
    if (error instanceof SlugTaken) throw new Conflict('this slug is taken', { field: 'slug' });
    throw error;
  }
  try {
    const admin = await createUser(services, tenant.id, tenant.policy, { ...input.admin, role: 'admin' });
    return { tenant, admin };
  } catch (error) {
    await removeTenant(services.store, tenant);
    throw userProblem(error);
  }
}

/** The problem a failed user creation means to the caller (or the error itself if unexpected). */
export function userProblem(error: unknown): unknown {
  if (error instanceof LoginNameTaken) return new Conflict(`this ${error.field} is taken`, { field: error.field });
  if (error instanceof CredentialRejected) return new Invalid(error.message);
  return error;
}

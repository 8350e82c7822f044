import { Conflict, Invalid } from '../errors.js';
import type { Services } from '../services.js';
import { createUser, CredentialRejected, LoginNameTaken, type NewUser } from '../users/users.js';
import type { TenantPolicy } from './policy.js';
import { signInDeadEnd } from './sign-in-methods.js';
import { createTenant, EmailDomainTaken, removeTenant, SlugTaken } from './tenants.js';

/**
 * A tenant, its directory entries (slug, email domains) and its first admin, all or nothing
 * (docs/flows.md#administration). The first admin's credentials are checked against the
 * tenant's policy before anything is written. A Microsoft-first tenant has no local admin: the
 * operator leaves it waiting for its first Microsoft admin (`bindEntraOnFirstAdminSignIn`), and
 * a tenant with neither could never be administered, so it is refused.
 */
export async function createTenantWithAdmin(
  services: Services,
  input: {
    slug: string;
    name: string;
    policy?: Partial<TenantPolicy>;
    admin?: Omit<NewUser, 'role'>;
    emailDomains?: readonly string[];
    bindEntraOnFirstAdminSignIn?: boolean;
  },
) {
  if (!input.admin && input.bindEntraOnFirstAdminSignIn !== true) {
    throw new Invalid('a tenant needs a first admin: give `admin`, or set `bindEntraOnFirstAdminSignIn` for a Microsoft-first tenant', {
      field: 'admin',
    });
  }
  if (!input.admin && input.policy?.signInMethods && !input.policy.signInMethods.includes('microsoft')) {
    throw new Invalid('a tenant without a local admin signs in with Microsoft: `policy.signInMethods` must hold `microsoft`', {
      field: 'policy.signInMethods',
    });
  }
  const deadEnd = signInDeadEnd({ policy: input.policy ?? {}, bindEntraOnFirstAdminSignIn: input.bindEntraOnFirstAdminSignIn });
  if (deadEnd) throw new Invalid(deadEnd, { field: 'policy.signInMethods' });
  let tenant;
  try {
    tenant = await createTenant(services, input);
  } catch (error) {
    if (error instanceof SlugTaken) throw new Conflict('this slug is taken', { field: 'slug' });
    if (error instanceof EmailDomainTaken)
      throw new Conflict(`the email domain ${error.domain} belongs to another tenant`, { field: 'emailDomains' });
    throw error;
  }
  if (!input.admin) return { tenant };
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

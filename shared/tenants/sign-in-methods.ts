import type { TenantPolicy } from './policy.js';
import type { Tenant } from './tenants.js';

/** How people sign in to the apps (not at printers: that is `allowedLoginMethods`). */
export type SignInMethod = 'microsoft' | 'password';

/** Bound to Entra ID, or waiting for its first Microsoft admin. */
export const isConnectedToEntra = (tenant: Pick<Tenant, 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>): boolean =>
  (tenant.entraTenantIds?.length ?? 0) > 0 || tenant.bindEntraOnFirstAdminSignIn === true;

/**
 * What the tenant's policy allows, or its default: a tenant connected to Microsoft Entra ID
 * signs in with Microsoft, any other with Roger passwords (docs/flows.md, Sign in with Microsoft).
 */
export function signInMethodsOf(
  tenant: { readonly policy: Pick<TenantPolicy, 'signInMethods'> } & Pick<Tenant, 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
): readonly SignInMethod[] {
  return tenant.policy.signInMethods ?? (isConnectedToEntra(tenant) ? ['microsoft'] : ['password']);
}

export const allowsSignIn = (
  tenant: { readonly policy: Pick<TenantPolicy, 'signInMethods'> } & Pick<Tenant, 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
  method: SignInMethod,
): boolean => signInMethodsOf(tenant).includes(method);

/** Is `tid` one of the Entra tenants bound to this tenant? */
export const isBoundEntraTenant = (tenant: Pick<Tenant, 'entraTenantIds'>, tid: string): boolean =>
  tenant.entraTenantIds?.includes(tid.toLowerCase()) ?? false;

/**
 * Why nobody could sign in to the apps with these settings, or undefined: turning `password` off
 * leaves only Microsoft, which lets nobody in until the tenant is connected to Microsoft Entra ID
 * (bound, or waiting for its first admin). Checked when the operator creates a tenant and when
 * an admin changes its policy, so no admin can lock the whole tenant out.
 */
export function signInDeadEnd(
  tenant: { readonly policy: Pick<TenantPolicy, 'signInMethods'> } & Pick<Tenant, 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
): string | undefined {
  if (allowsSignIn(tenant, 'password') || isConnectedToEntra(tenant)) return undefined;
  return 'password sign-in can be turned off only once the tenant is connected to Microsoft Entra ID: nobody could sign in';
}

/**
 * Could this person still sign in to the apps under the tenant's methods? With `password`, if
 * they have a Roger password; with `microsoft`, if their Microsoft account is of an Entra tenant
 * bound here. An admin's policy change must leave them a way in (tenants.ts, changeTenant).
 */
export function keepsAWayIn(
  tenant: { readonly policy: Pick<TenantPolicy, 'signInMethods'> } & Pick<Tenant, 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
  person: { readonly passwordHash?: string; readonly entra?: { readonly tid: string } },
): boolean {
  return (
    (allowsSignIn(tenant, 'password') && person.passwordHash !== undefined) ||
    (allowsSignIn(tenant, 'microsoft') && person.entra !== undefined && isBoundEntraTenant(tenant, person.entra.tid))
  );
}

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
  tenant: Pick<Tenant, 'policy' | 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
): readonly SignInMethod[] {
  return tenant.policy.signInMethods ?? (isConnectedToEntra(tenant) ? ['microsoft'] : ['password']);
}

export const allowsSignIn = (
  tenant: Pick<Tenant, 'policy' | 'entraTenantIds' | 'bindEntraOnFirstAdminSignIn'>,
  method: SignInMethod,
): boolean => signInMethodsOf(tenant).includes(method);

/** Is `tid` one of the Entra tenants bound to this tenant? */
export const isBoundEntraTenant = (tenant: Pick<Tenant, 'entraTenantIds'>, tid: string): boolean =>
  tenant.entraTenantIds?.includes(tid.toLowerCase()) ?? false;

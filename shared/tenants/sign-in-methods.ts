import type { Tenant } from './tenants.js';

/** How people sign in to the apps (not at printers: that is `allowedLoginMethods`). */
export type SignInMethod = 'microsoft' | 'password';

/** Bound to Entra ID, or waiting for its first Microsoft admin. */
export const isConnectedToEntra = (tenant: Pick<Tenant, 'entra'>): boolean =>
  Boolean(tenant.entra && (tenant.entra.tenantIds.length > 0 || tenant.entra.bindOnFirstAdminSignIn));

/**
 * What the tenant's policy allows, or its default: a tenant connected to Microsoft Entra ID
 * signs in with Microsoft, any other with Roger passwords (docs/flows.md, Sign in with Microsoft).
 */
export function signInMethodsOf(tenant: Pick<Tenant, 'policy' | 'entra'>): readonly SignInMethod[] {
  return tenant.policy.signInMethods ?? (isConnectedToEntra(tenant) ? ['microsoft'] : ['password']);
}

export const allowsSignIn = (tenant: Pick<Tenant, 'policy' | 'entra'>, method: SignInMethod): boolean =>
  signInMethodsOf(tenant).includes(method);

/** Is `tid` one of the Entra tenants bound to this tenant? */
export const isBoundEntraTenant = (tenant: Pick<Tenant, 'entra'>, tid: string): boolean =>
  tenant.entra?.tenantIds.includes(tid.toLowerCase()) ?? false;

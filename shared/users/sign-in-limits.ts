import { oauthDefaults } from '../oauth/defaults.js';
import { addressBucket, limitFailures, type LimitRule } from '../rate-limit.js';
import { RateLimited } from '../errors.js';
import type { Services } from '../services.js';
import { defaultTenantPolicy } from '../tenants/policy.js';
import type { Tenant } from '../tenants/tenants.js';

/**
 * Per-account lockout stops guessing one person's PIN; it does not stop one printer (or one
 * address) trying the common PINs once against every username. So failed sign-ins are also
 * limited per printer (the tenant's `printerFailedSignInLimit`) and per client address (the
 * app's password grant, the verification page), at no store cost while sign-ins succeed
 * (rate-limit.ts). Over the limit: RateLimited, before any secret is checked.
 */
export type SignInSource = { readonly printerId: string; readonly tenant: Tenant | undefined } | { readonly ip: string | undefined };

function limitFor(source: SignInSource): [string, LimitRule] {
  const { limits } = oauthDefaults;
  if ('printerId' in source) {
    const limit = (source.tenant?.policy ?? defaultTenantPolicy).printerFailedSignInLimit;
    return [`sign-in-failures:printer:${source.printerId}`, { limit, windowSeconds: limits.printerSignInFailureWindowSeconds }];
  }
  return [`sign-in-failures:${addressBucket(source.ip)}`, limits.addressSignInFailures];
}

/**
 * Runs one sign-in attempt (undefined = failed) under its source's failure limit. Counts the
 * attempts refused by the limit, and the failure that reached it (a printer or an address locked
 * out until the window ends).
 */
export async function withinSignInFailureLimit<T>(
  services: Pick<Services, 'store' | 'now' | 'telemetry'>,
  source: SignInSource,
  method: 'pin' | 'password' | 'badge',
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const [key, rule] = limitFor(source);
  const { telemetry } = services;
  try {
    return await limitFailures(services.store, key, rule, services.now(), attempt, () =>
      telemetry.lockout('printerId' in source ? 'printer' : 'address'),
    );
  } catch (error) {
    if (error instanceof RateLimited) telemetry.signIn(method, 'rate_limited');
    throw error;
  }
}

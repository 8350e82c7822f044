import type { TenantPolicy } from './policy.js';

/**
 * The density rule of PIN-only sign-in (docs/security.md#pin-only-sign-in). Without a username, a
 * PIN typed at a printer signs in whoever holds it, so a guess succeeds with the odds that a
 * random PIN is held: users / 10^length. The tenant's `pinDensity` is the most it accepts (the
 * same bound generatedPinLength keeps generated PINs under), judged at `pinMinLength`, the
 * shortest PIN the tenant allows.
 */
export interface PinDensity {
  readonly users: number;
  readonly length: number;
  /** Share of the PIN space at `length` the users fill. */
  readonly share: number;
  /** The shortest PIN length (up to 12) that keeps the share within `pinDensity`, or undefined when none does. */
  readonly lengthNeeded: number | undefined;
}

export function pinDensityOf(policy: Pick<TenantPolicy, 'pinMinLength' | 'pinDensity'>, users: number): PinDensity {
  const share = (length: number) => Math.max(users, 1) / 10 ** length;
  let lengthNeeded: number | undefined;
  for (let length = 4; length <= 12 && lengthNeeded === undefined; length += 1) {
    if (share(length) <= policy.pinDensity) lengthNeeded = length;
  }
  return { users, length: policy.pinMinLength, share: share(policy.pinMinLength), lengthNeeded };
}

const percent = (share: number) => `${Number((share * 100).toPrecision(3))} %`;

/**
 * Why the policy may not have `pinOnly` on for `users` users, in words an admin can act on (the
 * numbers included), or undefined when it may.
 */
export function pinOnlyRefusal(policy: TenantPolicy, users: number): { detail: string; density: PinDensity } | undefined {
  if (!policy.pinOnly) return undefined;
  const density = pinDensityOf(policy, users);
  if (density.share <= policy.pinDensity) return undefined;
  const facts =
    `PIN-only sign-in needs PINs long enough for the tenant's ${users} users: at ${density.length} digits they fill ` +
    `${percent(density.share)} of the ${(10 ** density.length).toLocaleString('en')} PINs, above pinDensity (${percent(policy.pinDensity)})`;
  const detail =
    density.lengthNeeded === undefined
      ? `${facts}; no PIN length up to 12 digits is enough: raise pinDensity`
      : `${facts}; set pinMinLength to ${density.lengthNeeded} or more (the PIN length needed), in the same change or first`;
  return { detail, density };
}

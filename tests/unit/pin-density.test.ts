import { describe, expect, it } from 'vitest';
import { pinDensityOf, pinOnlyRefusal } from '../../shared/tenants/pin-density.js';
import { defaultTenantPolicy, generatedPinLength } from '../../shared/tenants/policy.js';

/** The density rule of PIN-only sign-in (docs/security.md#pin-only-sign-in), pure. */
describe('PIN density', () => {
  const policy = { ...defaultTenantPolicy, pinOnly: true };

  it('allows pinOnly while users fill at most pinDensity of the PINs of pinMinLength digits', () => {
    expect(pinOnlyRefusal({ ...policy, pinMinLength: 6 }, 1000)).toBeUndefined(); // 0.1 %: the bound itself
    expect(pinOnlyRefusal({ ...policy, pinMinLength: 6 }, 1001)).toBeDefined();
    expect(pinOnlyRefusal({ ...policy, pinOnly: false, pinMinLength: 4 }, 1_000_000)).toBeUndefined();
  });

  it('names the users, the length, the share and the length needed', () => {
    const refusal = pinOnlyRefusal({ ...policy, pinMinLength: 6 }, 2000)!;
    expect(refusal.density).toEqual({ users: 2000, length: 6, share: 0.002, lengthNeeded: 7 });
    expect(refusal.detail).toContain('2000 users');
    expect(refusal.detail).toContain('at 6 digits they fill 0.2 % of the 1,000,000 PINs, above pinDensity (0.1 %)');
    expect(refusal.detail).toContain('set pinMinLength to 7');
  });

  it('says when no PIN length up to 12 is enough', () => {
    const refusal = pinOnlyRefusal({ ...policy, pinMinLength: 12, pinDensity: 1e-9 }, 5000)!;
    expect(refusal.density.lengthNeeded).toBeUndefined();
    expect(refusal.detail).toContain('raise pinDensity');
  });

  it('needs the length generated PINs get from the shortest minimum, so the two rules agree', () => {
    for (const users of [1, 9, 10, 999, 1000, 12_345, 1_000_000]) {
      for (const pinDensity of [0.1, 0.001, 0.0001]) {
        const needed = pinDensityOf({ pinMinLength: 4, pinDensity }, users).lengthNeeded;
        expect(needed).toBe(generatedPinLength({ ...policy, pinMinLength: 4, pinDensity }, users));
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Unauthorized } from '../../shared/errors.js';
import { defaultTenantPolicy } from '../../shared/tenants/policy.js';
import { deactivated, isDeactivated, reactivated, requireActive } from '../../shared/users/activation.js';
import { roleOwnedByDirectory } from '../../shared/users/admin.js';
import { applySignInAttempt } from '../../shared/users/sign-in.js';
import type { ScimProfile, UserDoc } from '../../shared/users/users.js';

/** The pure rules of deactivation (shared/users/activation.ts) and of what the directory owns (admin.ts). */
const t0 = new Date('2026-01-01T00:00:00Z');
const user = {
  id: 'u1',
  tenantId: 't1',
  lockout: { failures: 0, locks: 0 },
  refreshFamilies: [{ id: 'f1' }],
} as unknown as UserDoc;
const scim: ScimProfile = { userName: 'dana@contoso.example', createdBy: 'tok', updatedAt: t0.toISOString() };

describe('sign-in of a deactivated user (docs/security.md, Deactivation)', () => {
  const policy = { ...defaultTenantPolicy, lockoutThreshold: 3 };
  const attempt = { method: 'password' as const, clientId: 'roger-mobile' };

  it('fails with the right secret, is recorded, and counts towards no lock however often it is tried', () => {
    let state = deactivated(user, t0);
    const recorded: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const outcome = applySignInAttempt(state, policy, attempt, i % 2 === 0, t0);
      expect(outcome).toMatchObject({ success: false, locked: false, lockedNow: false });
      expect(outcome.user).toBe(state); // nothing to write on the user: the login record alone
      recorded.push(outcome.record.success);
      state = outcome.user;
    }
    expect(state.lockout).toEqual({ failures: 0, locks: 0 });
    expect(recorded).toEqual([false, false, false, false, false]);
    // Back on: the right secret signs in at once.
    expect(applySignInAttempt(reactivated(state), policy, attempt, true, t0).success).toBe(true);
  });
});

describe('activation', () => {
  it('deactivation ends every refresh family and keeps its first time; reactivation keeps them ended', () => {
    const off = deactivated(user, t0);
    expect(off).toMatchObject({ deactivatedAt: t0.toISOString(), refreshFamilies: [] });
    expect(deactivated(off, new Date(t0.getTime() + 1000)).deactivatedAt).toBe(t0.toISOString());
    const on = reactivated(off);
    expect(isDeactivated(on)).toBe(false);
    expect(on.refreshFamilies).toEqual([]);
    expect('deactivatedAt' in on).toBe(false);
  });

  it('requireActive passes an active user and refuses a deactivated one with 401 (unauthorized)', () => {
    expect(requireActive(user)).toBe(user);
    expect(() => requireActive(deactivated(user, t0))).toThrow(Unauthorized);
  });
});

describe('the role of a provisioned user', () => {
  it('is the directory’s only for a SCIM user in a tenant whose policy names the admin group', () => {
    const group = { entraAdminGroupId: '5a1f3c7e-9b2d-4e6a-8c0f-1d3b5e7a9c2e' };
    expect(roleOwnedByDirectory(group, { scim })).toBe(true);
    expect(roleOwnedByDirectory({}, { scim })).toBe(false);
    expect(roleOwnedByDirectory(group, {})).toBe(false);
  });
});

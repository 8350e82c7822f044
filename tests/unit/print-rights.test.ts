import { describe, expect, it } from 'vitest';
import { defaultJobOptions, type JobOptions } from '../../shared/jobs/jobs.js';
import { applyRights, rightsOf, roleMatters, type PersonRights } from '../../shared/release/print-rights.js';
import { defaultTenantPolicy, type PrintRightsPolicy, type TenantPolicy } from '../../shared/tenants/policy.js';

/**
 * Print rights (shared/release/print-rights.ts; docs/flows.md#print-rights) without a store: a
 * person's rights (their own entry over their role's, field by field) and what a job's options
 * become under them, downgraded or held. tests/e2e/print-rights.test.ts checks what the printer
 * receives.
 */
const uma = 'a'.repeat(32);
const olga = 'b'.repeat(32);
const policyWith = (printRights?: PrintRightsPolicy): TenantPolicy => ({ ...defaultTenantPolicy, ...(printRights ? { printRights } : {}) });
const colourDuplex3: JobOptions = { copies: 3, duplex: false, color: true, paperSize: 'A4' };
const downgrade = (rights: PersonRights['rights']): PersonRights => ({ rights, onViolation: 'downgrade' });
const hold = (rights: PersonRights['rights']): PersonRights => ({ rights, onViolation: 'hold' });

describe('rightsOf: whose rights', () => {
  it('no print rights in the policy: none (nothing changes)', () => {
    expect(rightsOf(policyWith(), uma, 'user')).toBeUndefined();
    expect(applyRights(undefined, colourDuplex3)).toEqual({ options: colourDuplex3, changed: false });
  });

  it('the role’s rights; a role without an entry is not limited', () => {
    const policy = policyWith({ onViolation: 'hold', roles: { user: { color: false, maxCopies: 2 } } });
    expect(rightsOf(policy, uma, 'user')).toEqual({ rights: { color: false, maxCopies: 2 }, onViolation: 'hold' });
    expect(rightsOf(policy, olga, 'admin')).toEqual({ rights: {}, onViolation: 'hold' });
  });

  it('a user’s own entry wins over the role’s, field by field; the rest stays the role’s', () => {
    const policy = policyWith({
      onViolation: 'downgrade',
      roles: { user: { color: false, duplexForced: true, maxCopies: 2 } },
      users: { [uma]: { color: true, maxCopies: 10 } },
    });
    expect(rightsOf(policy, uma, 'user')?.rights).toEqual({ color: true, duplexForced: true, maxCopies: 10 });
    expect(rightsOf(policy, olga, 'user')?.rights).toEqual({ color: false, duplexForced: true, maxCopies: 2 });
  });

  it('the role matters only when a role has rights and the user’s own entry does not set them all', () => {
    expect(roleMatters(policyWith(), uma)).toBe(false);
    expect(roleMatters(policyWith({ onViolation: 'hold', users: { [uma]: { color: false } } }), uma)).toBe(false);
    expect(roleMatters(policyWith({ onViolation: 'hold', roles: { user: {} } }), uma)).toBe(false);
    const byRole = policyWith({ onViolation: 'hold', roles: { user: { color: false } }, users: { [uma]: { color: true } } });
    expect(roleMatters(byRole, uma)).toBe(true);
    expect(roleMatters(byRole, olga)).toBe(true);
    const allOwn = policyWith({
      onViolation: 'hold',
      roles: { user: { color: false } },
      users: { [uma]: { color: true, duplexForced: false, maxCopies: 5 } },
    });
    expect(roleMatters(allOwn, uma)).toBe(false);
  });
});

describe('applyRights: downgrade', () => {
  it('colour not allowed: printed mono', () => {
    expect(applyRights(downgrade({ color: false }), colourDuplex3)).toEqual({ options: { ...colourDuplex3, color: false }, changed: true });
  });

  it('duplex forced: printed on both sides', () => {
    expect(applyRights(downgrade({ duplexForced: true }), colourDuplex3)).toEqual({
      options: { ...colourDuplex3, duplex: true },
      changed: true,
    });
  });

  it('too many copies: capped', () => {
    expect(applyRights(downgrade({ maxCopies: 2 }), colourDuplex3)).toEqual({ options: { ...colourDuplex3, copies: 2 }, changed: true });
  });

  it('every right at once; the paper size is never touched', () => {
    const verdict = applyRights(downgrade({ color: false, duplexForced: true, maxCopies: 1 }), { ...colourDuplex3, paperSize: 'A3' });
    expect(verdict).toEqual({ options: { copies: 1, duplex: true, color: false, paperSize: 'A3' }, changed: true });
  });

  it('a job within its rights is sent as asked, unchanged', () => {
    const within = { ...defaultJobOptions, copies: 2 };
    expect(applyRights(downgrade({ color: false, duplexForced: true, maxCopies: 2 }), within)).toEqual({ options: within, changed: false });
    expect(applyRights(downgrade({ color: true, duplexForced: false }), colourDuplex3)).toEqual({ options: colourDuplex3, changed: false });
  });
});

describe('applyRights: hold', () => {
  it('holds with the reason of the right broken', () => {
    expect(applyRights(hold({ color: false }), colourDuplex3)).toEqual({ hold: 'color-not-allowed' });
    expect(applyRights(hold({ duplexForced: true }), colourDuplex3)).toEqual({ hold: 'duplex-required' });
    expect(applyRights(hold({ maxCopies: 2 }), colourDuplex3)).toEqual({ hold: 'too-many-copies' });
  });

  it('names the first right broken, in the order of HOLD_REASONS', () => {
    expect(applyRights(hold({ color: false, duplexForced: true, maxCopies: 1 }), colourDuplex3)).toEqual({ hold: 'color-not-allowed' });
    expect(applyRights(hold({ duplexForced: true, maxCopies: 1 }), colourDuplex3)).toEqual({ hold: 'duplex-required' });
  });

  it('never holds a job within its rights', () => {
    expect(applyRights(hold({ color: false, maxCopies: 3 }), { ...colourDuplex3, color: false })).toEqual({
      options: { ...colourDuplex3, color: false },
      changed: false,
    });
  });
});

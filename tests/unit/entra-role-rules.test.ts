import { describe, expect, it } from 'vitest';
import { roleFromClaims } from '../../shared/users/entra-identity.js';

/** Who is an admin, from a verified id_token (docs/flows.md, Sign in with Microsoft). */
describe('role from the id_token', () => {
  const group = '0b6d1c9e-4f7a-4a61-8d0e-2c5b7e9f1a30';

  it('the Roger.Admin app role makes an admin, whatever the groups', () => {
    expect(roleFromClaims({ roles: ['Roger.Admin'] }, undefined)).toBe('admin');
    expect(roleFromClaims({ roles: ['Other', 'Roger.Admin'], groups: [] }, group)).toBe('admin');
  });

  it('the group the policy names makes an admin (ids compared without case); other groups do not', () => {
    expect(roleFromClaims({ groups: [group.toUpperCase()] }, group)).toBe('admin');
    expect(roleFromClaims({ groups: ['5e2a8f14-9c3d-4b07-a6e1-7d4c0b9a2f58'] }, group)).toBe('user');
  });

  it('no policy group: groups are ignored; claims of the wrong shape make no admin', () => {
    expect(roleFromClaims({ groups: [group] }, undefined)).toBe('user');
    expect(roleFromClaims({ roles: 'Roger.Admin' }, undefined)).toBe('user');
    expect(roleFromClaims({ roles: ['roger.admin'] }, undefined)).toBe('user');
    expect(roleFromClaims({}, group)).toBe('user');
  });
});

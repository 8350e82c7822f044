import { describe, expect, it } from 'vitest';
import { applyPatch, canonicalPath, PATCH_OP_SCHEMA, patchOperations } from '../../shared/scim/patch.js';
import { ScimError } from '../../shared/scim/errors.js';

/**
 * PATCH attribute names ignore case (RFC 7643 §2.1) and core attributes may be qualified by their
 * schema URN (RFC 7644 §3.10): shared/scim/patch.ts rewrites them to our names before the library
 * applies them, so `ACTIVE` changes `active` rather than writing a second key beside it.
 */
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const view = () => ({
  schemas: [USER, ENTERPRISE],
  id: 'u1',
  userName: 'megan@contoso.test',
  displayName: 'Megan',
  active: true as boolean | string,
  name: { givenName: 'Megan', familyName: 'Bowen' },
  emails: [{ value: 'megan@contoso.test', type: 'work', primary: true }],
  [ENTERPRISE]: { department: 'Sales' },
});
const patched = (...Operations: unknown[]) => applyPatch(view(), patchOperations({ schemas: [PATCH_OP_SCHEMA], Operations }));

describe('PATCH attribute names', () => {
  it.each(['active', 'ACTIVE', 'Active', `${USER}:active`, `${USER.toUpperCase()}:Active`])(
    '%s replaces active, with no second key',
    async (path) => {
      const result = await patched({ op: 'Replace', path, value: 'False' });
      expect(result.active).toBe('False');
      expect(Object.keys(result).filter((key) => key.toLowerCase() === 'active')).toEqual(['active']);
    },
  );

  it('without a path, the value object’s keys in any case: Active, DisplayName, USERNAME, name.GivenName', async () => {
    const result = await patched({
      op: 'replace',
      value: { Active: 'False', DisplayName: 'Megan B', USERNAME: 'mb@contoso.test', 'Name.GivenName': 'Meg' },
    });
    expect(result).toMatchObject({ active: 'False', displayName: 'Megan B', userName: 'mb@contoso.test', name: { givenName: 'Meg' } });
    expect(Object.keys(result).sort()).toEqual(Object.keys(view()).sort());
    expect(Object.keys(result.name).sort()).toEqual(['familyName', 'givenName']);
  });

  it('sub-attributes, complex values and the enterprise extension in any case', async () => {
    const result = await patched(
      { op: 'replace', path: 'name.FamilyName', value: 'B' },
      { op: 'add', path: 'NAME', value: { Formatted: 'Megan B' } },
      { op: 'replace', path: 'Emails[type eq "work"].Value', value: 'mb@contoso.test' },
      { op: 'replace', path: `${ENTERPRISE.toLowerCase()}:Department`, value: 'Ops' },
      { op: 'replace', value: { [ENTERPRISE.toUpperCase()]: { EmployeeNumber: '7' } } },
    );
    expect(result.name).toEqual({ givenName: 'Megan', familyName: 'B', formatted: 'Megan B' });
    expect(result.emails).toEqual([{ value: 'mb@contoso.test', type: 'work', primary: true }]);
    expect(result[ENTERPRISE]).toEqual({ department: 'Ops', employeeNumber: '7' });
    expect(Object.keys(result).filter((key) => key.toLowerCase() === ENTERPRISE.toLowerCase())).toEqual([ENTERPRISE]);
  });

  it('a URN-qualified read-only attribute is 400 mutability like the plain one', () => {
    for (const path of [`${USER}:id`, `${USER.toLowerCase()}:Meta.lastModified`, 'ID', 'Groups']) {
      const refused = (() => {
        try {
          patchOperations({ schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path, value: 'x' }] });
        } catch (error) {
          return error;
        }
      })();
      expect(refused, path).toBeInstanceOf(ScimError);
      expect(refused, path).toMatchObject({ status: 400, scimType: 'mutability' });
    }
  });

  it('leaves attributes it does not know, and value filters, as sent', () => {
    expect(canonicalPath('Title')).toBe('Title');
    expect(canonicalPath('emails[Type eq "Work"].VALUE')).toBe('emails[Type eq "Work"].value');
    expect(canonicalPath('urn:example:ext:1.0:User:Thing')).toBe('urn:example:ext:1.0:User:Thing');
  });
});

import { describe, expect, it } from 'vitest';
import { groupFilter, MAX_FILTER_LENGTH, userFilter } from '../../shared/scim/filter.js';
import { paging, readBoolean, readString } from '../../shared/scim/resources.js';

/** The SCIM filters we answer by point reads (shared/scim/filter.ts), and the readers of values identity providers send. */
describe('SCIM filters', () => {
  it('reads each supported Users filter as the one look-up it asks for, names ignoring case and schema URN', () => {
    expect(userFilter('userName eq "Megan@Contoso.test"')).toEqual({ attribute: 'userName', value: 'Megan@Contoso.test' });
    expect(userFilter('USERNAME Eq "x"')).toEqual({ attribute: 'userName', value: 'x' });
    expect(userFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"')).toEqual({ attribute: 'userName', value: 'x' });
    expect(userFilter('externalId eq "0a1b"')).toEqual({ attribute: 'externalId', value: '0a1b' });
    expect(userFilter('emails[type eq "work"].value eq "m@c.test"')).toEqual({ attribute: 'email', value: 'm@c.test' });
    expect(userFilter('emails[Type eq "WORK"].value eq "m@c.test"')).toEqual({ attribute: 'email', value: 'm@c.test' });
    expect(userFilter('emails.value eq "m@c.test"')).toEqual({ attribute: 'email', value: 'm@c.test' });
    expect(userFilter('id eq "abc"')).toEqual({ attribute: 'id', value: 'abc' });
    expect(userFilter('userName eq "with \\"quotes\\""')).toEqual({ attribute: 'userName', value: 'with "quotes"' });
  });

  it('refuses anything else with 400 invalidFilter and names what is supported', () => {
    for (const filter of [
      'userName ne "x"',
      'userName co "x"',
      'userName gt "x"',
      'userName pr',
      'userName eq true',
      'userName eq null',
      'title eq "x"',
      'emails[type eq "home"].value eq "x"',
      'emails[type eq "work"].type eq "x"',
      'phoneNumbers[type eq "work"].value eq "x"',
      'userName eq "a" and userName eq "b"',
      'userName eq "a" or externalId eq "b"',
      'not (userName eq "a")',
      'userName eq "a" and externalId eq "b" and id eq "c"',
      '',
      'userName',
      '(((',
      `userName eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`,
    ]) {
      let thrown: unknown;
      try {
        userFilter(filter);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, filter).toMatchObject({ status: 400, scimType: 'invalidFilter' });
      expect((thrown as Error).message, filter).toMatch(/userName eq/);
      expect((thrown as Error).message, filter).not.toContain('xxxx');
    }
  });

  it('reads the Groups filters: displayName, externalId, id; nothing else', () => {
    expect(groupFilter('displayName eq "Roger admins"')).toEqual({ attribute: 'displayName', value: 'Roger admins' });
    expect(groupFilter('urn:ietf:params:scim:schemas:core:2.0:Group:externalId eq "g"')).toEqual({ attribute: 'externalId', value: 'g' });
    expect(groupFilter('ID eq "g"')).toEqual({ attribute: 'id', value: 'g' });
    for (const filter of ['members.value eq "x"', 'displayName sw "R"', 'userName eq "x"', 'displayName eq "a" or displayName eq "b"']) {
      expect(() => groupFilter(filter), filter).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidFilter' }));
    }
  });
});

describe('SCIM values', () => {
  it('active as a boolean or the strings "True"/"False" in any case; anything else is invalidValue', () => {
    expect([true, false, 'True', 'False', 'TRUE', 'false', ' False '].map((v) => readBoolean(v, 'active'))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
    expect(readBoolean(undefined, 'active')).toBeUndefined();
    expect(readBoolean(null, 'active')).toBeUndefined();
    for (const value of ['yes', 1, 0, 'Truee', {}, []]) {
      expect(() => readBoolean(value, 'active'), String(value)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
    }
  });

  it('strings are trimmed, bounded and free of control characters; the detail never quotes the value', () => {
    expect(readString('  Megan  ', 'displayName')).toBe('Megan');
    expect(readString('   ', 'displayName')).toBeUndefined();
    expect(readString('x'.repeat(256), 'displayName')).toHaveLength(256);
    for (const value of ['x'.repeat(257), 'a\u0000b', 'new\nline', 'del\u007f', 42, ['a']]) {
      expect(() => readString(value, 'displayName')).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
    }
    expect(() => readString('secret\u0007', 'displayName')).toThrow(
      expect.not.objectContaining({ detail: expect.stringContaining('secret') }),
    );
  });

  it('paging: startIndex from 1, count 0–100 (default 100)', () => {
    expect(paging({})).toEqual({ startIndex: 1, count: 100 });
    expect(paging({ startIndex: 0, count: -3 })).toEqual({ startIndex: 1, count: 0 });
    expect(paging({ startIndex: 7.9, count: 1000 })).toEqual({ startIndex: 7, count: 100 });
    expect(paging({ startIndex: Number.NaN, count: Number.NaN })).toEqual({ startIndex: 1, count: 100 });
  });
});

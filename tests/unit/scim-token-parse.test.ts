import { describe, expect, it } from 'vitest';
import { parseScimToken } from '../../shared/scim/tokens.js';

const tenant = 'a'.repeat(32);
const id = '0123456789abcdef0123456789abcdef';
const secret = 'A'.repeat(40) + '-_9';

describe('parseScimToken', () => {
  it('reads scim1.<tenantId>.<tokenId>.<secret>', () => {
    expect(parseScimToken(`scim1.${tenant}.${id}.${secret}`)).toEqual({ tenantId: tenant, tokenId: id, secret });
  });

  it.each([
    ['no prefix', `${tenant}.${id}.${secret}`],
    ['another version', `scim2.${tenant}.${id}.${secret}`],
    ['a fifth part', `scim1.${tenant}.${id}.${secret}.x`],
    ['an upper-case tenant id', `scim1.${tenant.toUpperCase()}.${id}.${secret}`],
    ['a short token id', `scim1.${tenant}.${id.slice(1)}.${secret}`],
    ['a short secret', `scim1.${tenant}.${id}.${secret.slice(1)}`],
    ['a secret outside base64url', `scim1.${tenant}.${id}.${secret.slice(1)}+`],
    ['a path in the tenant', `scim1.../${tenant.slice(3)}.${id}.${secret}`],
    ['empty', ''],
  ])('refuses %s', (_why, token) => {
    expect(parseScimToken(token)).toBeUndefined();
  });
});

import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTenant, mobileSignIn, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 1: every admin decision rests on the user item read in that request, not on
 * the `roles` claim of a token that may be 20 minutes old; a user that no longer exists can do
 * nothing with a token that still verifies.
 */
const ann: Person = { email: 'ann@stale.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const bob: Person = { email: 'bob@stale.test', username: 'bob', fullName: 'Bob Admin', password: 'bob-password-12' };
const cy: Person = { email: 'cy@stale.test', username: 'cy', fullName: 'Cy User', password: 'cy-password-123' };

describe('defect 1: a demoted or erased admin keeps admin powers until the access token expires', () => {
  let host: TestHost;
  let annId: string;
  let bobToken: string;
  let bobId: string;
  let cyId: string;

  /** An enrollment code a printer shows, for an admin to approve. */
  async function enrollmentCode() {
    const emb = await oauthClient(host, 'roger-emb');
    return (await oauth.initiateDeviceAuthorization(emb, { scope: 'device' })).user_code;
  }

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    annId = (await createTenant(host, 'stale', ann)).adminId;
    const annToken = (await mobileSignIn(host, 'stale', ann)).access_token;
    bobId = (await api(host, annToken, 'POST', '/api/users', { ...bob, role: 'admin' })).body.id;
    cyId = (await api(host, annToken, 'POST', '/api/users', cy)).body.id;
    bobToken = (await mobileSignIn(host, 'stale', bob)).access_token;
  });
  afterAll(() => host.close());

  it('a demoted admin’s old token cannot promote itself back, manage users, read the audit log or enroll a printer', async () => {
    const annToken = (await mobileSignIn(host, 'stale', ann)).access_token; // roles: ["admin"] in the claim
    expect((await api(host, bobToken, 'PATCH', `/api/users/${annId}`, { role: 'user' })).status).toBe(200);

    expect((await api(host, annToken, 'PATCH', `/api/users/${annId}`, { role: 'admin' })).status).toBe(403);
    expect(
      (
        await api(host, annToken, 'POST', '/api/users', {
          email: 'x@stale.test',
          username: 'xx',
          fullName: 'X',
          password: 'x-password-12',
          role: 'admin',
        })
      ).status,
    ).toBe(403);
    expect((await api(host, annToken, 'PUT', `/api/users/${bobId}/credentials`, { password: 'taken-over-12' })).status).toBe(403);
    expect((await api(host, annToken, 'GET', '/api/audit')).status).toBe(403);
    expect((await api(host, annToken, 'GET', `/api/users/${cyId}`)).status).toBe(403);
    expect((await api(host, annToken, 'GET', `/api/users/${cyId}/export`)).status).toBe(403);
    // An enrollment code is an admin's to answer: to a non-admin it does not exist.
    expect(
      (await api(host, annToken, 'POST', '/api/device-codes/approve', { user_code: await enrollmentCode(), name: 'Rogue' })).status,
    ).toBe(404);
    expect((await api(host, annToken, 'GET', '/api/me')).body.roles).toEqual(['user']);

    const stored = await api(host, bobToken, 'GET', `/api/users/${annId}`);
    expect(stored.body.role).toBe('user');
  });

  it('an erased admin’s token can do nothing, and the erased id never reappears as an actor', async () => {
    const annToken = (await mobileSignIn(host, 'stale', ann)).access_token;
    expect((await api(host, bobToken, 'PATCH', `/api/users/${annId}`, { role: 'admin' })).status).toBe(200);
    const freshAnnToken = (await mobileSignIn(host, 'stale', ann)).access_token;
    expect((await api(host, bobToken, 'DELETE', `/api/users/${annId}`)).status).toBe(204);

    for (const token of [annToken, freshAnnToken]) {
      const created = await api(host, token, 'POST', '/api/users', {
        email: 'y@stale.test',
        username: 'yy',
        fullName: 'Y',
        password: 'y-password-12',
        role: 'admin',
      });
      expect(created.status).toBe(401);
      expect(created.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await api(host, token, 'PUT', `/api/users/${bobId}/credentials`, { password: 'taken-over-12' })).status).toBe(401);
      expect((await api(host, token, 'GET', '/api/audit')).status).toBe(401);
      expect((await api(host, token, 'GET', `/api/users/${annId}`)).status).toBe(401);
      expect((await api(host, token, 'GET', '/api/scan-profiles')).status).toBe(401);
      expect(
        (await api(host, token, 'POST', '/api/device-codes/approve', { user_code: await enrollmentCode(), name: 'Rogue' })).status,
      ).toBe(404);
    }
    expect((await mobileSignIn(host, 'stale', bob)).access_token).toBeTruthy(); // Bob's credentials untouched

    const log = await api(host, bobToken, 'GET', '/api/audit?limit=100');
    expect(log.status).toBe(200);
    expect(JSON.stringify(log.body)).not.toContain(annId);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 2 (disconnection is immediate: docs/flows.md#printer-lifecycle): a printer an admin disconnected
 * keeps a valid access token for up to 20 minutes; with it, it must not sign anyone in.
 */
const admin: Person = { email: 'ann@unplugged.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const dana: Person = { email: 'dana@unplugged.test', username: 'dana', fullName: 'Dana Doe', password: 'dana-password-1', pin: '4826' };

describe('defect 2: a disconnected printer can still sign users in with PIN or password', () => {
  let host: TestHost;
  let adminToken: string;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    await createTenant(host, 'unplugged', admin);
    adminToken = (await mobileSignIn(host, 'unplugged', admin)).access_token;
    expect((await api(host, adminToken, 'POST', '/api/users', dana)).status).toBe(201);
  });
  afterAll(() => host.close());

  it('after DELETE /api/devices/{id}, its still-valid token gets invalid_client for PIN and password', async () => {
    const printer = await enrollPrinter(host, adminToken, 'MFP-1');
    const signIn = (password: string) =>
      tokenRequest(
        host,
        { grant_type: 'password', client_id: 'roger-emb', username: 'dana', password, scope: 'jobs:submit' },
        printer.access,
      );
    expect((await signIn(dana.pin!)).status).toBe(200);

    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    for (const secret of [dana.pin!, dana.password]) {
      const answer = await signIn(secret);
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe('invalid_client');
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
  });
});

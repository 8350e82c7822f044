import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 5: the tenant policy names what may be typed at a printer (`pin`,
 * `password`), and what a typed secret is checked as follows the policy, not the secret's shape.
 */
const admin: Person = { email: 'ann@methods.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
/** Her password is all digits: under a "passwords only" policy it must still work, and her PIN must not. */
const erin: Person = { email: 'erin@methods.test', username: 'erin', fullName: 'Erin Example', password: '90817263', pin: '5173' };
const fay: Person = { email: 'fay@methods.test', username: 'fay', fullName: 'Fay Example', password: 'fay-password-1', pin: '6284' };

describe('defect 5: allowedLoginMethods ["qr"] does not stop password sign-in at the printer', () => {
  let host: TestHost;
  let adminToken: string;
  let printer: { access: string };

  const atPanel = (username: string, password: string) =>
    tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password, scope: 'jobs:submit' }, printer.access);
  const setMethods = async (methods: string[]) =>
    expect((await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { allowedLoginMethods: methods } })).status).toBe(200);

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    await createTenant(host, 'methods', admin);
    adminToken = (await mobileSignIn(host, 'methods', admin)).access_token;
    for (const person of [erin, fay]) expect((await api(host, adminToken, 'POST', '/api/users', person)).status).toBe(201);
    printer = await enrollPrinter(host, adminToken, 'MFP-1');
  });
  afterAll(() => host.close());

  it('["qr"]: neither a PIN nor a password of any shape signs anyone in at a printer', async () => {
    await setMethods(['qr']);
    for (const [username, secret] of [
      ['fay', fay.password],
      ['fay', fay.pin!],
      ['erin', erin.password],
      ['erin', erin.pin!],
    ] as const) {
      const answer = await atPanel(username, secret);
      expect(answer.status, `${username}`).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
    }
    // The app's own sign-in is not a printer's and is untouched.
    expect((await mobileSignIn(host, 'methods', fay)).access_token).toBeTruthy();
  });

  it('["qr", "pin"]: PINs only — a password is refused whatever it looks like', async () => {
    await setMethods(['qr', 'pin']);
    expect((await atPanel('fay', fay.pin!)).status).toBe(200);
    expect((await atPanel('fay', fay.password)).status).toBe(400);
    expect((await atPanel('erin', erin.password)).body.error).toBe('invalid_grant'); // checked as a PIN: wrong
  });

  it('["qr", "password"]: passwords only — an all-digit secret is checked as a password, PINs are refused', async () => {
    await setMethods(['qr', 'password']);
    expect((await atPanel('erin', erin.password)).status).toBe(200);
    expect((await atPanel('fay', fay.password)).status).toBe(200);
    expect((await atPanel('erin', erin.pin!)).body.error).toBe('invalid_grant');
    await setMethods(['qr', 'pin', 'password']);
    expect((await atPanel('erin', erin.pin!)).status).toBe(200);
  });
});

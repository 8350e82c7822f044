import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolledPrinter, freshTenant, uniqueName } from '../helpers/fixtures.js';
import { api, createTenant, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Every flow of docs/flows.md#sign-in, end to end through the local host, driven by a stock OAuth
 * client library (openid-client) with no changes: enrollment, session QR, PIN command, mobile
 * and desktop sign-in, refresh rotation and revocation.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob User', password: 'bob-password-1', pin: '4711' };

describe('OAuth flows with openid-client', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** A Contoso of the test's own: Alice the admin and Bob, both signed in from the mobile app. */
  async function contoso() {
    const tenant = await freshTenant(host, 'contoso', alice, [bob]);
    const [bobMember] = tenant.users;
    return { slug: tenant.slug, aliceToken: tenant.admin.token, bobToken: bobMember!.token, bobId: bobMember!.id };
  }

  /** Contoso with its printer on the 3rd floor enrolled. */
  async function contosoWithPrinter() {
    const world = await contoso();
    const printer = await enrolledPrinter(host, world.aliceToken, 'MFP 3rd floor', 'Building A, 3rd floor');
    return { ...world, deviceAccess: printer.access, deviceRefresh: printer.refresh, deviceId: printer.deviceId };
  }

  it('publishes RFC 8414 metadata that a stock client discovers', async () => {
    const config = await oauthClient(host, 'roger-mobile');
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(host.url);
    expect(metadata.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:device_code');
    expect(metadata.device_authorization_endpoint).toBe(`${host.url}/oauth/device_authorization`);
  });

  it('signs the admin in from the mobile app (password grant with tenant) and creates a user', async () => {
    const slug = uniqueName('contoso');
    await createTenant(host, slug, alice);
    const tokens = await mobileSignIn(host, slug, alice);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toMatch(/^rt1\./);
    expect(tokens.expires_in).toBe(1200);
    const aliceToken = tokens.access_token;

    const created = await api(host, aliceToken, 'POST', '/api/users', { ...bob, role: 'user' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/users/${created.body.id}`);
    expect(created.body).toMatchObject({ username: 'bob', hasPin: true, hasPassword: true });
    expect(JSON.stringify(created.body)).not.toMatch(/argon2|4711|bob-password/);
    expect((await mobileSignIn(host, slug, bob)).access_token).toBeTruthy();
  });

  it('enrolls a printer: device authorization, admin approval, device tokens', async () => {
    const { aliceToken, bobToken } = await contoso();
    const emb = await oauthClient(host, 'roger-emb');
    const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
    expect(authorization.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(authorization.verification_uri).toBe(`${host.url}/device`);
    // This host serves no web app: the QR code opens the /device page (verification-uri.test.ts).
    expect(authorization.verification_uri_complete).toBe(`${host.url}/device?user_code=${authorization.user_code}`);
    expect(authorization.interval).toBe(1);

    // A plain user may not enroll printers: the code looks unknown to them.
    expect((await api(host, bobToken, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(404);

    const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);
    const lower = authorization.user_code.toLowerCase().replace('-', '');
    const approved = await api(host, aliceToken, 'POST', '/api/device-codes/approve', {
      user_code: lower,
      name: 'MFP 3rd floor',
      location: 'Building A, 3rd floor',
    });
    expect(approved.status).toBe(200);
    const deviceId = approved.body.deviceId;
    expect(deviceId).toMatch(/^[0-9a-f]{32}$/);

    const tokens = await polling;
    expect(tokens.scope).toBe('device');
    expect(tokens.refresh_token).toMatch(/^rt1\.d\./);
    const me = await api(host, tokens.access_token, 'GET', '/api/me');
    expect(me.body).toMatchObject({ kind: 'device', printer: { id: deviceId, name: 'MFP 3rd floor', status: 'connected' } });
  });

  it('starts a user session at the printer from the QR code, approved in the mobile app', async () => {
    const { bobToken, bobId, deviceAccess, deviceId } = await contosoWithPrinter();
    const emb = await oauthClient(host, 'roger-emb', () => deviceAccess);
    const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'session' });
    expect(authorization.expires_in).toBe(120);

    const asking = await api(host, bobToken, 'GET', `/api/device-codes/${authorization.user_code}`);
    expect(asking.status).toBe(200);
    expect(asking.body).toMatchObject({
      clientId: 'roger-emb',
      scope: 'session',
      printer: { id: deviceId, name: 'MFP 3rd floor', location: 'Building A, 3rd floor' },
    });

    const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);
    expect((await api(host, bobToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code })).status).toBe(200);
    const session = await polling;
    expect(session.refresh_token).toBeUndefined();

    // The session token is an RFC 9068 JWT that verifies against the published JWKS.
    const { payload, protectedHeader } = await jwtVerify(
      session.access_token,
      createRemoteJWKSet(new URL(`${host.url}/.well-known/jwks.json`)),
      {
        issuer: host.url,
        audience: host.url,
        typ: 'at+jwt',
        algorithms: ['ES256'],
      },
    );
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ sub: bobId, act: { sub: deviceId }, scope: 'jobs:release scan', client_id: 'roger-emb' });
    expect(payload.exp! - payload.iat!).toBe(1200);

    const me = await api(host, session.access_token, 'GET', '/api/me');
    expect(me.body).toMatchObject({ kind: 'session', user: { id: bobId }, printer: { id: deviceId } });
  });

  it('answers the PIN command at the printer with a session token for that user', async () => {
    const { bobId, deviceAccess, deviceId } = await contosoWithPrinter();
    const emb = await oauthClient(host, 'roger-emb', () => deviceAccess);
    const tokens = await oauth.genericGrantRequest(emb, 'password', { username: 'bob', password: '4711', scope: 'jobs:submit scan' });
    expect(tokens.scope).toBe('jobs:submit scan');
    expect(tokens.refresh_token).toBeUndefined();
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ sub: bobId, act: { sub: deviceId } });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
  });

  it('signs the desktop client in with the device flow, approved in the mobile app', async () => {
    const { bobToken, bobId } = await contoso();
    const desktop = await oauthClient(host, 'roger-desktop');
    const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs offline_access' });
    const polling = oauth.pollDeviceAuthorizationGrant(desktop, authorization);
    expect((await api(host, bobToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code })).status).toBe(200);
    const tokens = await polling;
    expect(tokens.scope).toBe('jobs offline_access');
    expect(tokens.refresh_token).toMatch(/^rt1\.u\./);

    // The refresh token from the device flow works, and rotates.
    const refreshed = await oauth.refreshTokenGrant(desktop, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api(host, refreshed.access_token, 'GET', '/api/me')).body).toMatchObject({ kind: 'user', user: { id: bobId } });
  });

  it('denies: the polling client gets access_denied', async () => {
    const { bobToken } = await contoso();
    const desktop = await oauthClient(host, 'roger-desktop');
    const authorization = await oauth.initiateDeviceAuthorization(desktop, {});
    const polling = oauthErrorOf(() => oauth.pollDeviceAuthorizationGrant(desktop, authorization));
    expect((await api(host, bobToken, 'POST', '/api/device-codes/deny', { user_code: authorization.user_code })).status).toBe(204);
    expect(await polling).toBe('access_denied');
  });

  it('rotates refresh tokens on every use, for printers and people', async () => {
    const { admin } = await freshTenant(host, 'contoso', alice);
    const { refresh: deviceRefresh } = await enrolledPrinter(host, admin.token, 'MFP 3rd floor');
    const emb = await oauthClient(host, 'roger-emb');
    const first = await oauth.refreshTokenGrant(emb, deviceRefresh);
    const second = await oauth.refreshTokenGrant(emb, first.refresh_token!);
    expect(new Set([deviceRefresh, first.refresh_token, second.refresh_token]).size).toBe(3);
    expect(second.scope).toBe('device');
  });

  it('revokes a refresh token (RFC 7009): it no longer refreshes', async () => {
    const { slug } = await contoso();
    const mobile = await oauthClient(host, 'roger-mobile');
    const tokens = await mobileSignIn(host, slug, bob);
    await oauth.tokenRevocation(mobile, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, tokens.refresh_token!))).toBe('invalid_grant');
    // Unknown tokens are accepted silently (RFC 7009 §2.2).
    await oauth.tokenRevocation(mobile, 'not-a-token');
  });
});

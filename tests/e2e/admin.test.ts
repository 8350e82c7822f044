import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
import { containerSpecs, type ContainerName } from '../../shared/store/containers.js';
import { approvedSession, enrolledPrinter, freshTenant, individual } from '../helpers/fixtures.js';
import { pinSession } from '../helpers/printer.js';
import { api, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { browserGet } from '../helpers/microsoft.js';

/**
 * docs/flows.md#administration and docs/data.md#data-subject-rights: what a fleet admin and a data protection officer use. Tenant
 * isolation of every route here is probed in oauth-security.test.ts.
 */
const admin: Person = { email: 'ann@contoso.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const ursula: Person = {
  email: 'ursula@contoso.test',
  username: 'ursula',
  fullName: 'Ursula Quill-Byrne',
  password: 'ursula-password',
  pin: '2580',
};
const victor: Person = {
  email: 'victor@contoso.test',
  username: 'victor',
  fullName: 'Victor Vance',
  password: 'victor-password',
  pin: '3690',
};

describe('tenant administration and data subject rights', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** A Contoso of the test's own: Ann the admin, and `people` (Ursula, then Victor) made by her; everyone signed in. */
  async function contoso(...people: Person[]) {
    const tenant = await freshTenant(host, 'contoso', admin, people);
    const [user, other] = tenant.users;
    return {
      slug: tenant.slug,
      adminToken: tenant.admin.token,
      adminId: tenant.admin.id,
      userToken: user?.token,
      userId: user?.id,
      victorId: other?.id,
    };
  }

  it('every admin route answers 403 to a user who is not an admin', async () => {
    const { userToken, victorId } = await contoso(ursula, victor);
    const adminRoutes = routeTable.routes.filter((route) => route.auth?.anyRole?.includes('admin'));
    expect(adminRoutes.length).toBeGreaterThanOrEqual(15);
    for (const route of adminRoutes) {
      const path = `/${route.route.replace(/\{[a-z_]+\}/g, victorId!)}`;
      const response = await fetch(`${host.url}${path}`, {
        method: route.methods[0],
        headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
        ...(route.methods[0] === 'GET' || route.methods[0] === 'DELETE' ? {} : { body: '{}' }),
      });
      expect(response.status, route.name).toBe(403);
    }
    expect((await api(host, userToken, 'GET', `/api/users/${victorId}/export`)).status).toBe(403);
  });

  it('tenant policy: read, change (validated, audited) and it takes effect', async () => {
    const { slug, adminToken, adminId, userToken } = await contoso(ursula);
    const before = await api(host, adminToken, 'GET', '/api/tenant');
    expect(before.body).toMatchObject({
      slug,
      policy: {
        jobRetentionDays: 7,
        pinMinLength: 4,
        lockoutThreshold: 5,
        loginHistoryKeepsIp: false,
        allowedLoginMethods: ['qr', 'pin', 'password'],
        printerFailedSignInLimit: 30,
      },
    });
    const bad = await api(host, adminToken, 'PATCH', '/api/tenant', {
      policy: { jobRetentionDays: 0, pinDensity: 2, allowedLoginMethods: ['fax'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(
      expect.arrayContaining(['/body/policy/jobRetentionDays', '/body/policy/pinDensity', '/body/policy/allowedLoginMethods/0']),
    );
    expect((await api(host, adminToken, 'PATCH', '/api/tenant', {})).status).toBe(400);

    const changed = await api(host, adminToken, 'PATCH', '/api/tenant', {
      name: 'Contoso Ltd',
      policy: { jobRetentionDays: 14, passwordNeedsLetterAndDigit: true, loginHistoryKeepsIp: true },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      name: 'Contoso Ltd',
      policy: { jobRetentionDays: 14, passwordNeedsLetterAndDigit: true, pinMinLength: 4 },
    });
    // In effect on this instance at once: new jobs keep 14 days, new passwords need a digit.
    const job = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
    expect(Date.parse(job.body.expiresAt) - Date.parse(job.body.createdAt)).toBe(14 * 86400_000);
    const weak = await api(host, adminToken, 'POST', '/api/users', {
      email: 'w@contoso.test',
      username: 'weak',
      fullName: 'W',
      password: 'lettersonly',
    });
    expect(weak.status).toBe(400);

    const log = await api(host, adminToken, 'GET', '/api/audit');
    expect(log.body.items[0]).toMatchObject({
      actorId: adminId,
      action: 'tenant.policy-changed',
      details: { fields: ['name', 'policy.jobRetentionDays', 'policy.passwordNeedsLetterAndDigit', 'policy.loginHistoryKeepsIp'] },
    });
  });

  it('users: paged list with a text filter; changes of names and role; the last admin stays', async () => {
    const { slug, adminToken, adminId, userId, victorId } = await contoso(ursula, victor);
    const page1 = await api(host, adminToken, 'GET', '/api/users?limit=2');
    expect(page1.body.items.map((u: { username: string }) => u.username)).toEqual(['ann', 'ursula']);
    const page2 = await api(
      host,
      adminToken,
      'GET',
      `/api/users?limit=2&continuationToken=${encodeURIComponent(page1.body.continuationToken)}`,
    );
    expect(page2.body.items.map((u: { username: string }) => u.username)).toEqual(['victor']);
    expect(page2.body.continuationToken).toBeNull();
    expect((await api(host, adminToken, 'GET', '/api/users?q=QUILL')).body.items.map((u: { id: string }) => u.id)).toEqual([userId]);
    expect((await api(host, adminToken, 'GET', '/api/users?q=victor%40contoso')).body.items).toHaveLength(1);
    expect(JSON.stringify(page1.body)).not.toMatch(/Hash|lockout|logins/);

    await mobileSignIn(host, slug, victor); // this instance now remembers victor → Victor's id
    const renamed = await api(host, adminToken, 'PATCH', `/api/users/${victorId}`, { username: 'vic', role: 'admin' });
    expect(renamed.body).toMatchObject({ username: 'vic', role: 'admin' });
    expect((await mobileSignIn(host, slug, { ...victor, username: 'vic' })).access_token).toBeTruthy();
    expect(await oauthErrorOf(() => mobileSignIn(host, slug, victor))).toBe('invalid_grant');
    // The freed name goes to someone else: the remembered hint must not sign them in as Victor.
    const newVictor: Person = { email: 'victor.new@contoso.test', username: 'victor', fullName: 'Victor Two', password: 'second-victor-9' };
    const newVictorId = (await api(host, adminToken, 'POST', '/api/users', newVictor)).body.id as string;
    const signedIn = await mobileSignIn(host, slug, newVictor);
    expect((await api(host, signedIn.access_token, 'GET', '/api/me')).body.user).toMatchObject({ id: newVictorId, username: 'victor' });
    expect(await oauthErrorOf(() => mobileSignIn(host, slug, { ...newVictor, password: victor.password }))).toBe('invalid_grant');
    expect((await api(host, adminToken, 'DELETE', `/api/users/${newVictorId}`)).status).toBe(204);
    expect((await api(host, adminToken, 'PATCH', `/api/users/${victorId}`, { email: ursula.email })).status).toBe(409);
    expect((await api(host, adminToken, 'PATCH', `/api/users/${victorId}`, { role: 'user' })).status).toBe(200);
    const lastAdmin = await api(host, adminToken, 'PATCH', `/api/users/${adminId}`, { role: 'user' });
    expect(lastAdmin.status).toBe(409);
    expect(lastAdmin.body.detail).toMatch(/last admin/);
    expect((await api(host, adminToken, 'DELETE', `/api/users/${adminId}`)).status).toBe(409);
  });

  it('PIN: an admin reset gives a one-time PIN sized by the policy; users change their own with the current one', async () => {
    const { slug, adminToken, userId, victorId } = await contoso(ursula, victor);
    const reset = await api(host, adminToken, 'POST', `/api/users/${userId}/pin-reset`);
    expect(reset.status).toBe(200);
    expect(reset.headers.get('cache-control')).toBe('no-store');
    expect(reset.body.pin).toMatch(/^[0-9]{4}$/); // 3 users, density 0.001 → 4 digits suffice
    // Not as a value anywhere: a bare substring check would also hit the 4 digits inside a hex id (1 run in ~30).
    const auditText = JSON.stringify((await api(host, adminToken, 'GET', '/api/audit')).body);
    expect(auditText).not.toMatch(new RegExp(`(?<![0-9a-f])${reset.body.pin}(?![0-9a-f])`));
    // The reset ended Ursula's sign-ins; she signs in again.
    const userToken = (await mobileSignIn(host, slug, ursula)).access_token;

    const wrong = await api(host, userToken, 'PUT', '/api/me/pin', { current: '0000', pin: '97531' });
    expect(wrong.status).toBe(403);
    expect((await api(host, userToken, 'PUT', '/api/me/pin', { current: reset.body.pin, pin: '12' })).status).toBe(400);
    expect((await api(host, userToken, 'PUT', '/api/me/pin', { current: reset.body.pin, pin: '97531' })).status).toBe(204);
    expect((await api(host, userToken, 'PUT', '/api/me/pin', { current: ursula.password, pin: '2580' })).status).toBe(204);
    // A denser tenant gets longer PINs.
    await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { pinDensity: 0.00001 } });
    expect((await api(host, adminToken, 'POST', `/api/users/${victorId}/pin-reset`)).body.pin).toMatch(/^[0-9]{6}$/);
    await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { pinDensity: 0.001 } });
  });

  it('login history: own and (admin) per user; IP only when the policy keeps it; older than the policy’s days not shown', async () => {
    const { slug, adminToken, userId, userToken } = await contoso(ursula);
    expect((await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { loginHistoryKeepsIp: true } })).status).toBe(200);
    await fetch(`${host.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.7' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'roger-mobile',
        tenant: slug,
        username: 'ursula',
        password: 'nope-wrong-1',
      }),
    });
    const mine = await api(host, userToken, 'GET', '/api/me/logins');
    // The address the host was reached from, not the one the client wrote (tests/hardening/defect-10).
    expect(mine.body.items[0]).toMatchObject({ clientId: 'roger-mobile', method: 'password', success: false, ip: '127.0.0.1' });
    expect(mine.body.items.some((l: { success: boolean }) => l.success)).toBe(true);
    const seenByAdmin = await api(host, adminToken, 'GET', `/api/users/${userId}/logins`);
    expect(seenByAdmin.body.items).toEqual(mine.body.items);

    await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { loginHistoryKeepsIp: false, loginHistoryDays: 1 } });
    expect((await api(host, userToken, 'GET', '/api/me/logins')).body.items[0]).not.toHaveProperty('ip');
    host.advanceClock(2 * 86400);
    try {
      const fresh = (await mobileSignIn(host, slug, ursula)).access_token;
      const kept = (await api(host, fresh, 'GET', '/api/me/logins')).body.items;
      expect(kept).toHaveLength(1);
    } finally {
      host.advanceClock(-2 * 86400);
    }
  });

  it('printers: enrolled (audited), list with status and last seen, rename and move (audited), disconnect', async () => {
    const { adminToken } = await contoso();
    const printer = await enrolledPrinter(host, adminToken, 'Lobby');
    const list = await api(host, adminToken, 'GET', '/api/devices');
    expect(list.body.items).toEqual([
      {
        id: printer.deviceId,
        name: 'Lobby',
        location: '',
        status: 'connected',
        createdAt: expect.any(String),
        lastSeenAt: expect.any(String),
      },
    ]);
    // Each audited step one millisecond after the last on the host's clock: the newest-first order
    // below then holds by the records' own times, not by how long a round trip takes.
    host.advanceClock(0.001);
    const moved = await api(host, adminToken, 'PATCH', `/api/devices/${printer.deviceId}`, { name: 'Lobby MFP', location: 'Ground floor' });
    expect(moved.body).toMatchObject({ name: 'Lobby MFP', location: 'Ground floor', status: 'connected' });
    expect((await api(host, adminToken, 'PATCH', `/api/devices/${printer.deviceId}`, { colour: 'red' })).status).toBe(400);
    host.advanceClock(0.001);
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    expect((await api(host, adminToken, 'GET', '/api/devices')).body.items[0].status).toBe('disconnected');
    const records = (await api(host, adminToken, 'GET', '/api/audit?limit=3')).body.items as { action: string; targetId: string }[];
    expect(records.map((r) => r.action)).toEqual(['device.disconnected', 'device.changed', 'device.enrolled']);
    expect(records[2]!.targetId).toBe(printer.deviceId);
  });

  it('a tenant without QR sign-in refuses session approvals from the app as from the web page', async () => {
    const { adminToken, userToken } = await contoso(ursula);
    const printer = await enrolledPrinter(host, adminToken, 'QR policy printer');
    await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { allowedLoginMethods: ['pin'] } });
    try {
      const emb = await oauthClient(host, 'roger-emb', () => printer.access);
      const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'session' });
      const refused = await api(host, userToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toMatch(/QR sign-in/);
    } finally {
      await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { allowedLoginMethods: ['qr', 'pin', 'password'] } });
    }
  });

  it('export: everything about the user as one document, for an admin or the user themself; no hashes or tokens', async () => {
    const { adminToken, userId, userToken } = await contoso(ursula);
    await api(host, userToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
    const self = await api(host, userToken, 'GET', `/api/users/${userId}/export`);
    expect(self.status).toBe(200);
    expect(self.headers.get('content-disposition')).toContain('attachment');
    expect(self.body).toMatchObject({
      exportedFor: userId,
      profile: { id: userId, email: ursula.email, username: 'ursula', fullName: ursula.fullName, role: 'user' },
      logins: expect.arrayContaining([expect.objectContaining({ clientId: 'roger-mobile' })]),
      grants: expect.arrayContaining([expect.objectContaining({ clientId: 'roger-mobile', scope: 'jobs offline_access' })]),
      jobs: [expect.objectContaining({ fileName: 'a.pdf', userEmail: ursula.email })],
      onedrive: null,
    });
    const text = JSON.stringify(self.body);
    for (const secret of ['pinHash', 'passwordHash', 'currentHash', 'rotatedHashes', '$argon2']) expect(text).not.toContain(secret);
    expect((await api(host, adminToken, 'GET', `/api/users/${userId}/export`)).body.exportedFor).toBe(userId);
  });

  it('erasure: nothing in any container names the user afterwards, their tokens fail, a second DELETE is 204', async () => {
    // An Ursula of this test's own: the scans below search every tenant on the host for her.
    const her = individual(ursula);
    const { slug, adminToken, adminId, userId } = await contoso(her);
    // Give Ursula something in every place a user can leave a trace.
    const { refresh_token } = await mobileSignIn(host, slug, her);
    const userToken = (await mobileSignIn(host, slug, her)).access_token;
    await api(host, userToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
    const queued = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Ursula private.pdf', size: 42 });
    await api(host, userToken, 'POST', `/api/jobs/${queued.body.id}/ready`);
    const connect = await api(host, userToken, 'GET', '/api/onedrive/connect');
    const consent = await browserGet(connect.body.authorizationUrl);
    expect((await fetch(consent.location!)).status).toBe(200);
    await api(host, userToken, 'GET', '/api/onedrive/connect'); // a pending consent as well
    await api(host, adminToken, 'POST', '/api/scan-profiles', {
      name: 'Personal PDF',
      format: 'pdf',
      resolution: 300,
      color: 'color',
      duplex: true,
      roles: [],
      userIds: [userId],
    });
    const printer = await enrolledPrinter(host, adminToken, 'Erasure printer');
    await approvedSession(host, printer, userToken); // a session code answered by her, and the job released
    await api(host, userToken, 'GET', '/api/device-codes/ZZZZ-ZZZZ'); // a wrong-code counter
    await pinSession(host, printer, her.username, '2580');
    await api(host, adminToken, 'PATCH', `/api/users/${userId}`, { fullName: her.fullName }); // audit records naming her
    await api(host, userToken, 'GET', '/api/users/' + userId + '/export');

    const traces = [userId!, her.email, her.username, her.fullName];
    const before = await scanAllContainers(traces);
    expect(Object.keys(before).sort()).toEqual(expect.arrayContaining(['accounts', 'audit', 'deviceCodes', 'jobs', 'rateLimits']));

    const erased = await api(host, adminToken, 'DELETE', `/api/users/${userId}`);
    expect(erased.status).toBe(204);
    expect(await scanAllContainers(traces)).toEqual({});

    // Tokens: the refresh token is dead; the access token reaches nothing of hers.
    const mobile = await oauthClient(host, 'roger-mobile');
    expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, refresh_token!))).toBe('invalid_grant');
    expect((await api(host, userToken, 'GET', '/api/me')).status).toBe(404);
    expect((await api(host, userToken, 'GET', '/api/jobs')).body.items).toEqual([]);
    expect(await oauthErrorOf(() => mobileSignIn(host, slug, her))).toBe('invalid_grant');

    expect((await api(host, adminToken, 'DELETE', `/api/users/${userId}`)).status).toBe(204);
    const record = (await api(host, adminToken, 'GET', '/api/audit')).body.items.find(
      (r: { action: string }) => r.action === 'user.erased',
    );
    expect(record).toMatchObject({ actorId: adminId, details: { jobs: 2, onedriveLinks: 1, scanProfiles: 1 } });
    expect(record).not.toHaveProperty('targetId');
    // The username and email are free again.
    expect(
      (await api(host, adminToken, 'POST', '/api/users', { ...her, password: 'ursula-password-2', fullName: 'Another Ursula' })).status,
    ).toBe(201);
  });

  /** Every item of every container (regional and directory) that contains any of `needles`, by container. */
  async function scanAllContainers(needles: readonly string[]): Promise<Record<string, string[]>> {
    const { store } = await host.services();
    const found: Record<string, string[]> = {};
    for (const name of Object.keys(containerSpecs) as ContainerName[]) {
      const { resources } = await store.container(name).items.readAll().fetchAll();
      for (const item of resources) {
        const text = JSON.stringify(item).toLowerCase();
        if (needles.some((needle) => text.includes(needle.toLowerCase()))) (found[name] ??= []).push(String(item.id));
      }
    }
    return found;
  }
});

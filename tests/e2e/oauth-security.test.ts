import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
import type { UserDoc } from '../../shared/users/users.js';
import { api, createTenant, lastCosmosRequests, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, tokenRequest, type Person } from '../helpers/roger.js';
import { enrollPrinter } from '../helpers/printer.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/** Each security rule of SPEC §7 that the OAuth slice owns, as a test that fails if the rule breaks. */
const admin: Person = { email: 'root@fabrikam.test', username: 'root', fullName: 'Rita Root', password: 'root-password-1' };
const carol: Person = { email: 'carol@fabrikam.test', username: 'carol', fullName: 'Carol Smith', password: 'carol-password-1', pin: '2468' };
const otherAdmin: Person = { email: 'boss@woodgrove.test', username: 'boss', fullName: 'Bea Boss', password: 'boss-password-1' };
const dave: Person = { email: 'dave@woodgrove.test', username: 'dave', fullName: 'Dave Doe', password: 'dave-password-1', pin: '1357' };

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('OAuth security rules', () => {
  let host: TestHost;
  const a = {} as { tenantId: string; admin: string; carol: string; carolId: string; device: string; deviceId: string; deviceRefresh: string };
  const b = {} as {
    tenantId: string;
    admin: string;
    dave: string;
    daveId: string;
    device: string;
    deviceId: string;
    sessionCode: string;
    jobId: string;
    profileId: string;
  };
  let aSession: string;

  const enroll = (adminToken: string, name: string) => enrollPrinter(host, adminToken, name);


  const pinAtPrinter = (deviceAccess: string, username: string, pin: string, scope = 'jobs:submit') =>
    tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope }, deviceAccess);

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    const ta = await createTenant(host, 'fabrikam', admin, { lockoutThreshold: 5, lockoutSeconds: 30 });
    const tb = await createTenant(host, 'woodgrove', otherAdmin);
    a.tenantId = ta.id;
    b.tenantId = tb.id;
    a.admin = (await mobileSignIn(host, 'fabrikam', admin)).access_token;
    b.admin = (await mobileSignIn(host, 'woodgrove', otherAdmin)).access_token;
    a.carolId = (await api(host, a.admin, 'POST', '/api/users', carol)).body.id;
    b.daveId = (await api(host, b.admin, 'POST', '/api/users', dave)).body.id;
    a.carol = (await mobileSignIn(host, 'fabrikam', carol)).access_token;
    b.dave = (await mobileSignIn(host, 'woodgrove', dave)).access_token;
    const printerA = await enroll(a.admin, 'A printer');
    Object.assign(a, { device: printerA.access, deviceId: printerA.deviceId, deviceRefresh: printerA.refresh });
    const printerB = await enroll(b.admin, 'B printer');
    Object.assign(b, { device: printerB.access, deviceId: printerB.deviceId });
    const session = await oauth.initiateDeviceAuthorization(await oauthClient(host, 'roger-emb', () => b.device), { scope: 'session' });
    b.sessionCode = session.user_code;
    b.jobId = (await api(host, b.dave, 'POST', '/api/jobs', { fileName: 'b.pdf', size: 10 })).body.id;
    await api(host, b.dave, 'POST', `/api/jobs/${b.jobId}/ready`);
    aSession = (await pinAtPrinter(a.device, 'carol', '2468', 'jobs:submit scan')).body.access_token!;
    const profile = { name: 'B only', format: 'pdf', resolution: 300, color: 'color', duplex: true, roles: ['user', 'admin'], userIds: [] };
    b.profileId = (await api(host, b.admin, 'POST', '/api/scan-profiles', profile)).body.id;
  });
  afterAll(() => host.close());

  describe('refresh tokens', () => {
    it('reuse of a rotated refresh token revokes its successor (RFC 9700 §4.14.2)', async () => {
      const mobile = await oauthClient(host, 'roger-mobile');
      const original = await mobileSignIn(host, 'fabrikam', carol);
      const successor = await oauth.refreshTokenGrant(mobile, original.refresh_token!);
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, original.refresh_token!))).toBe('invalid_grant');
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, successor.refresh_token!))).toBe('invalid_grant');
      expect(host.logs.some((line) => line.startsWith('warning refresh-token-reuse '))).toBe(true);
    });

    it('of two concurrent refreshes with one token exactly one wins', async () => {
      const { refresh_token } = await mobileSignIn(host, 'fabrikam', carol);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refresh_token! })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
    });

    it('is bound to its client', async () => {
      const { refresh_token } = await mobileSignIn(host, 'fabrikam', carol);
      const desktop = await oauthClient(host, 'roger-desktop');
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(desktop, refresh_token!))).toBe('invalid_grant');
    });

    it('cannot widen the scope', async () => {
      const mobile = await oauthClient(host, 'roger-mobile');
      const { refresh_token } = await mobileSignIn(host, 'fabrikam', carol);
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, refresh_token!, { scope: 'jobs scan' }))).toBe('invalid_scope');
    });

    it('rejects a forged token naming a real user and family', async () => {
      const { refresh_token } = await mobileSignIn(host, 'fabrikam', carol);
      const forged = `${refresh_token!.slice(0, refresh_token!.lastIndexOf('.'))}.${'A'.repeat(43)}`;
      const result = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: forged });
      expect(result.body.error).toBe('invalid_grant');
      // A forged token must not revoke the real one (no denial of service by guessing).
      const mobile = await oauthClient(host, 'roger-mobile');
      await expect(oauth.refreshTokenGrant(mobile, refresh_token!)).resolves.toBeTruthy();
    });
  });

  describe('access tokens', () => {
    const claims = () => ({ sub: a.carolId, client_id: 'roger-mobile', scope: 'jobs', tid: a.tenantId, roles: ['admin'], jti: 'x' });

    it('rejects alg:none, HS256 (even keyed with the public key), a foreign key, wrong typ, iss or aud', async () => {
      const jwks = (await (await fetch(`${host.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; x: string }[] };
      const kid = jwks.keys[0]!.kid;
      const base = (jwt: SignJWT) => jwt.setIssuer(host.url).setAudience(host.url).setIssuedAt().setExpirationTime('10m');
      const foreign = await generateKeyPair('ES256');
      const tokens = {
        none: new UnsecuredJWT(claims()).setIssuer(host.url).setAudience(host.url).setIssuedAt().setExpirationTime('10m').encode(),
        hs256: await base(new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })).sign(
          new TextEncoder().encode(JSON.stringify(jwks.keys[0])),
        ),
        foreignKey: await base(new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })).sign(foreign.privateKey),
      };
      for (const [name, token] of Object.entries(tokens)) {
        const response = await api(host, token, 'GET', '/api/me');
        expect(response.status, name).toBe(401);
        expect(response.headers.get('www-authenticate'), name).toContain('error="invalid_token"');
      }
      expect(await exportJWK(foreign.publicKey)).toBeTruthy();
    });

    it('rejects a real token once it expired, and a token of this server altered in any claim', async () => {
      const { access_token } = await mobileSignIn(host, 'fabrikam', carol);
      expect((await api(host, access_token, 'GET', '/api/me')).status).toBe(200);
      const [header, payload, signature] = access_token.split('.');
      const altered = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      altered.tid = b.tenantId;
      const tampered = `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`;
      expect((await api(host, tampered, 'GET', '/api/me')).status).toBe(401);

      host.advanceClock(21 * 60);
      try {
        expect((await api(host, access_token, 'GET', '/api/me')).status).toBe(401);
      } finally {
        host.advanceClock(-21 * 60);
      }
    });

    it('answers 401 without a token, 403 for the wrong kind of token or role', async () => {
      expect((await api(host, undefined, 'GET', '/api/me')).headers.get('www-authenticate')).toBe('Bearer realm="roger"');
      const noRole = await api(host, a.carol, 'POST', '/api/users', { email: 'x@y.test', username: 'xy', fullName: 'X', password: 'password-123' });
      expect(noRole.status).toBe(403);
      const printerAsUser = await api(host, a.device, 'POST', '/api/device-codes/approve', { user_code: 'BBBB-BBBB' });
      expect(printerAsUser.status).toBe(403);
      expect(printerAsUser.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });
  });

  describe('tenant isolation: a token of tenant A never reaches tenant B', () => {
    /** One probe per authenticated route; a new route must add its own (the last test checks). */
    const probes: Record<string, () => Promise<number>> = {
      'users-get': async () => (await api(host, a.admin, 'GET', `/api/users/${b.daveId}`)).status,
      'users-credentials': async () => (await api(host, a.admin, 'PUT', `/api/users/${b.daveId}/credentials`, { pin: '9999' })).status,
      'users-create': async () => {
        // The tenant comes from the token: a body cannot name another tenant at all...
        const attempt = await api(host, a.admin, 'POST', '/api/users', { ...dave, email: 'x@a.test', username: 'dave2', tenantId: b.tenantId });
        expect(attempt.status).toBe(400);
        // ...and a user created by A's admin is in A: B's admin cannot see it.
        const created = await api(host, a.admin, 'POST', '/api/users', { ...dave, email: 'dave3@a.test', username: 'dave3' });
        return (await api(host, b.admin, 'GET', `/api/users/${created.body.id}`)).status;
      },
      'device-codes-get': async () => (await api(host, a.carol, 'GET', `/api/device-codes/${b.sessionCode}`)).status,
      'device-codes-approve': async () => (await api(host, a.carol, 'POST', '/api/device-codes/approve', { user_code: b.sessionCode })).status,
      'device-codes-deny': async () => (await api(host, a.carol, 'POST', '/api/device-codes/deny', { user_code: b.sessionCode })).status,
      'jobs-get': async () => (await api(host, a.admin, 'GET', `/api/jobs/${b.jobId}`)).status,
      'jobs-cancel': async () => (await api(host, a.admin, 'DELETE', `/api/jobs/${b.jobId}`)).status,
      'jobs-ready': async () => (await api(host, a.admin, 'POST', `/api/jobs/${b.jobId}/ready`)).status,
      'jobs-release': async () => (await api(host, aSession, 'POST', `/api/jobs/${b.jobId}/release`)).status,
      'jobs-printed': async () => (await api(host, aSession, 'POST', `/api/jobs/${b.jobId}/printed`)).status,
      'jobs-list': async () => {
        const list = await api(host, a.admin, 'GET', '/api/jobs?limit=100');
        expect(list.body.items.map((job: { id: string }) => job.id)).not.toContain(b.jobId);
        return 404; // lists are read in the caller's own partition only
      },
      'jobs-create': async () => {
        const created = await api(host, a.carol, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1, tenantId: b.tenantId });
        expect(created.status).toBe(400); // no tenant in the body, ever
        const mine = await api(host, a.carol, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
        return (await api(host, b.dave, 'GET', `/api/jobs/${mine.body.id}`)).status;
      },
      'users-list': async () => {
        const list = await api(host, a.admin, 'GET', '/api/users?limit=100');
        expect(list.body.items.map((u: { id: string }) => u.id)).not.toContain(b.daveId);
        expect((await api(host, a.admin, 'GET', '/api/users?q=dave')).body.items.map((u: { id: string }) => u.id)).not.toContain(b.daveId);
        return 404;
      },
      'users-update': async () => (await api(host, a.admin, 'PATCH', `/api/users/${b.daveId}`, { role: 'admin' })).status,
      'users-pin-reset': async () => (await api(host, a.admin, 'POST', `/api/users/${b.daveId}/pin-reset`)).status,
      'users-logins': async () => (await api(host, a.admin, 'GET', `/api/users/${b.daveId}/logins`)).status,
      'users-export': async () => (await api(host, a.admin, 'GET', `/api/users/${b.daveId}/export`)).status,
      'users-erase': async () => {
        // Idempotent 204 for an id it cannot see, but nothing of B's is touched (checked below).
        expect((await api(host, a.admin, 'DELETE', `/api/users/${b.daveId}`)).status).toBe(204);
        return (await api(host, a.admin, 'GET', `/api/users/${b.daveId}`)).status;
      },
      'me-logins': async () => {
        expect((await api(host, a.carol, 'GET', '/api/me/logins')).status).toBe(200);
        return 404; // the caller's own history only
      },
      'me-pin': async () => {
        expect((await api(host, a.carol, 'PUT', '/api/me/pin', { current: '1357', pin: '9999' })).status).toBe(403); // Dave's PIN means nothing in A
        return 404;
      },
      'tenant-get': async () => {
        expect((await api(host, a.admin, 'GET', '/api/tenant')).body.id).toBe(a.tenantId);
        return 404; // the caller's own tenant, from the token
      },
      'tenant-update': async () => {
        expect((await api(host, a.admin, 'PATCH', '/api/tenant', { name: 'A', tenantId: b.tenantId })).status).toBe(400);
        return 404; // checked below: B's policy is unchanged
      },
      'audit-list': async () => {
        const log = await api(host, a.admin, 'GET', '/api/audit?limit=100');
        expect(JSON.stringify(log.body)).not.toContain(b.daveId);
        return 404;
      },
      'devices-list': async () => {
        const list = await api(host, a.admin, 'GET', '/api/devices?limit=100');
        expect(list.body.items.map((d: { id: string }) => d.id)).not.toContain(b.deviceId);
        return 404;
      },
      'devices-update': async () => (await api(host, a.admin, 'PATCH', `/api/devices/${b.deviceId}`, { name: 'taken' })).status,
      'devices-delete': async () => (await api(host, a.admin, 'DELETE', `/api/devices/${b.deviceId}`)).status,
      'devices-amqp-token': async () => {
        const token = await api(host, a.device, 'POST', '/api/devices/me/amqp-token');
        expect(token.body.entityPath).toBe(`releases/subscriptions/${a.deviceId}`);
        return 404; // the printer's own subscription is the only one it can get a token for
      },
      'onedrive-connect': async () => {
        const started = await api(host, a.carol, 'GET', '/api/onedrive/connect');
        expect(started.status).toBe(200);
        return 404; // it starts a consent for the caller only: the user and tenant come from the token
      },
      'onedrive-disconnect': async () => {
        expect((await api(host, a.carol, 'DELETE', '/api/onedrive')).status).toBe(204);
        return 404; // forgets the caller's own link, the only one it can name
      },
      'onedrive-print-list': async () => {
        expect((await api(host, aSession, 'GET', '/api/onedrive/print')).body.type).toMatch(/onedrive-not-connected$/);
        return 404; // the caller's own drive only
      },
      'onedrive-print-file': async () => {
        expect((await api(host, aSession, 'POST', '/api/onedrive/print', { itemId: 'ITEMOFB' })).body.type).toMatch(/onedrive-not-connected$/);
        return 404; // items are looked up in the caller's own drive only
      },
      'scan-profiles-list': async () => {
        const list = await api(host, a.admin, 'GET', '/api/scan-profiles');
        expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(b.profileId);
        return 404;
      },
      'scan-profiles-create': async () => {
        const body = { name: 'A', format: 'pdf', resolution: 300, color: 'color', duplex: true, roles: ['user'], userIds: [] };
        expect((await api(host, a.admin, 'POST', '/api/scan-profiles', { ...body, tenantId: b.tenantId })).status).toBe(400);
        const created = await api(host, a.admin, 'POST', '/api/scan-profiles', body);
        return (await api(host, b.admin, 'GET', `/api/scan-profiles/${created.body.id}`)).status;
      },
      'scan-profiles-get': async () => (await api(host, a.admin, 'GET', `/api/scan-profiles/${b.profileId}`)).status,
      'scan-profiles-update': async () => (await api(host, a.admin, 'PATCH', `/api/scan-profiles/${b.profileId}`, { name: 'taken' })).status,
      'scan-profiles-delete': async () => {
        expect((await api(host, a.admin, 'DELETE', `/api/scan-profiles/${b.profileId}`)).status).toBe(204);
        // Nothing was deleted in A's tenant, so nothing is audited there either.
        expect(JSON.stringify((await api(host, a.admin, 'GET', '/api/audit?limit=100')).body)).not.toContain(b.profileId);
        return (await api(host, b.admin, 'GET', `/api/scan-profiles/${b.profileId}`)).status === 200 ? 404 : 500; // still there in B
      },
      'scans-create': async () => (await api(host, aSession, 'POST', '/api/scans', { profileId: b.profileId, fileName: 'x' })).status,
      me: async () => {
        const me = await api(host, a.carol, 'GET', '/api/me');
        expect(me.body.tenant.id).toBe(a.tenantId);
        return 404; // /api/me has no resource of B to reach: it only ever reads the caller's own items
      },
    };

    for (const [route, probe] of Object.entries(probes)) {
      it(`${route}: 403 or 404`, async () => {
        expect([403, 404]).toContain(await probe());
      });
    }

    it("B's data is unchanged after the probes: Dave's PIN, session code, job, printer and scan profile", async () => {
      expect((await api(host, b.admin, 'GET', `/api/scan-profiles/${b.profileId}`)).body.name).toBe('B only');
      expect((await api(host, b.admin, 'GET', `/api/users/${b.daveId}`)).body).toMatchObject({ role: 'user', username: 'dave' });
      expect((await api(host, b.admin, 'GET', '/api/tenant')).body.name).toBe('woodgrove Ltd');
      expect((await api(host, b.admin, 'GET', '/api/devices')).body.items[0]).toMatchObject({ name: 'B printer', status: 'connected' });
      expect((await pinAtPrinter(b.device, 'dave', '1357')).status).toBe(200);
      expect((await api(host, b.dave, 'GET', `/api/jobs/${b.jobId}`)).body.state).toBe('queued');
      expect((await api(host, b.device, 'POST', '/api/devices/me/amqp-token')).status).toBe(200);
      expect((await api(host, b.dave, 'GET', `/api/device-codes/${b.sessionCode}`)).status).toBe(200);
    });

    it('a printer of A cannot sign in a user of B with their PIN', async () => {
      const result = await pinAtPrinter(a.device, 'dave', '1357');
      expect(result.body.error).toBe('invalid_grant');
    });

    it('every authenticated route has a probe', () => {
      const authenticated = routeTable.routes.filter((route) => route.auth).map((route) => route.name);
      expect(Object.keys(probes).sort()).toEqual(authenticated.sort());
    });
  });

  describe('password grant', () => {
    it('is refused to clients other than the printer and the mobile app, and to printers without their token', async () => {
      expect((await tokenRequest(host, { grant_type: 'password', client_id: 'roger-desktop', username: 'carol', password: 'x' })).body.error).toBe('unauthorized_client');
      const noPrinterToken = await tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username: 'carol', password: '2468' });
      expect(noPrinterToken.status).toBe(401);
      expect(noPrinterToken.body.error).toBe('invalid_client');
      const userTokenAsPrinter = await pinAtPrinter(a.carol, 'carol', '2468');
      expect(userTokenAsPrinter.body.error).toBe('invalid_client');
      expect((await tokenRequest(host, { grant_type: 'password', client_id: 'evil', username: 'carol', password: 'x' })).body.error).toBe('invalid_client');
    });

    it('locks the account after 5 wrong PINs: the 6th is rejected even with the right PIN until the lock ends', async () => {
      const eve: Person = { email: 'eve@fabrikam.test', username: 'eve', fullName: 'Eve Example', password: 'eve-password-1', pin: '8642' };
      const eveId = (await api(host, a.admin, 'POST', '/api/users', eve)).body.id as string;
      for (let i = 0; i < 5; i++) expect((await pinAtPrinter(a.device, 'eve', '0000')).body.error).toBe('invalid_grant');
      const locked = await pinAtPrinter(a.device, 'eve', '8642');
      expect(locked.status).toBe(400);
      expect(locked.body.error).toBe('invalid_grant');

      host.advanceClock(31); // the first lock lasts 30 s (tenant policy)
      try {
        expect((await pinAtPrinter(a.device, 'eve', '8642')).status).toBe(200);
      } finally {
        host.advanceClock(-31);
      }

      // Every attempt is in the login history: time, client, success.
      const { store } = await host.services();
      const { resource } = await store.container('accounts').item(eveId, a.tenantId).read<UserDoc>();
      expect(resource!.logins.map((l) => l.success)).toEqual([false, false, false, false, false, false, true]);
      expect(resource!.logins.every((l) => l.clientId === 'roger-emb' && l.method === 'pin' && !('ip' in l))).toBe(true);
    });

    it('a lock doubles each time it recurs', async () => {
      const frank: Person = { email: 'frank@fabrikam.test', username: 'frank', fullName: 'Frank F', password: 'frank-password-1', pin: '1111' };
      await api(host, a.admin, 'POST', '/api/users', frank);
      for (let i = 0; i < 5; i++) await pinAtPrinter(a.device, 'frank', '0000');
      host.advanceClock(31);
      for (let i = 0; i < 5; i++) await pinAtPrinter(a.device, 'frank', '0000');
      host.advanceClock(31); // second lock is 60 s: still locked
      try {
        expect((await pinAtPrinter(a.device, 'frank', '1111')).body.error).toBe('invalid_grant');
        host.advanceClock(30);
        expect((await pinAtPrinter(a.device, 'frank', '1111')).status).toBe(200);
      } finally {
        host.advanceClock(-92);
      }
    });

    it('answers an unknown user, a wrong PIN and a locked account identically', async () => {
      const unknown = await pinAtPrinter(a.device, 'nobody', '1234');
      const wrong = await pinAtPrinter(a.device, 'carol', '0000');
      expect(unknown.body).toEqual(wrong.body);
      const mobileUnknownTenant = await tokenRequest(host, { grant_type: 'password', client_id: 'roger-mobile', tenant: 'no-such-tenant', username: 'carol', password: 'carol-password-1' });
      expect(mobileUnknownTenant.body).toEqual(wrong.body);
    });
  });

  describe('device authorization grant', () => {
    it('answers slow_down to a client polling faster than the interval, and adds 5 s to it', async () => {
      const start = await fetch(`${host.url}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ client_id: 'roger-desktop', scope: 'jobs' }),
      });
      const { device_code } = (await start.json()) as { device_code: string };
      const poll = () => tokenRequest(host, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-desktop', device_code });
      expect((await poll()).body.error).toBe('authorization_pending');
      expect((await poll()).body.error).toBe('slow_down');
      host.advanceClock(2); // 2 s is enough for the old interval (1 s), not for the new one (6 s)
      try {
        expect((await poll()).body.error).toBe('slow_down');
      } finally {
        host.advanceClock(-2);
      }
    });

    it('exchanges a device code exactly once; a used one gets invalid_grant', async () => {
      const desktop = await oauthClient(host, 'roger-desktop');
      const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs' });
      await api(host, a.carol, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
      const fields = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-desktop', device_code: authorization.device_code };
      const racing = await Promise.all([tokenRequest(host, fields), tokenRequest(host, fields), tokenRequest(host, fields)]);
      expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
      expect((await tokenRequest(host, fields)).body.error).toBe('invalid_grant');
    });

    it('answers expired_token after the code lifetime', async () => {
      const emb = await oauthClient(host, 'roger-emb', () => a.device);
      const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'session' });
      host.advanceClock(121);
      try {
        const result = await tokenRequest(host, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-emb', device_code: authorization.device_code });
        expect(result.body.error).toBe('expired_token');
        expect((await api(host, a.carol, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(404);
      } finally {
        host.advanceClock(-121);
      }
    });

    it('rate-limits user-code guessing per caller (429 after 10 misses)', async () => {
      const mallory: Person = { email: 'mallory@fabrikam.test', username: 'mallory', fullName: 'Mallory M', password: 'mallory-password-1' };
      await api(host, a.admin, 'POST', '/api/users', mallory);
      const guesser = (await mobileSignIn(host, 'fabrikam', mallory)).access_token;
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await api(host, guesser, 'GET', '/api/device-codes/BBBB-BBBB')).status);
      expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
      expect(statuses[10]).toBe(429);
      // Per caller: another user of the same tenant is not affected.
      expect((await api(host, a.carol, 'GET', '/api/device-codes/BBBB-BBBB')).status).toBe(404);
    });

    it('disconnects a printer whose refresh token was unused for 90 days', async () => {
      const printer = await enroll(a.admin, 'Idle printer');
      host.advanceClock(91 * 86400);
      try {
        const emb = await oauthClient(host, 'roger-emb');
        expect(await oauthErrorOf(() => oauth.refreshTokenGrant(emb, printer.refresh))).toBe('invalid_grant');
        const { store } = await host.services();
        const { resource } = await store.container('accounts').item(printer.deviceId, a.tenantId).read<{ status: string }>();
        expect(resource!.status).toBe('disconnected');
      } finally {
        host.advanceClock(-91 * 86400);
      }
    });

    it('a printer used within 90 days stays connected: each refresh restarts the 90 days', async () => {
      const printer = await enroll(a.admin, 'Busy printer');
      const emb = await oauthClient(host, 'roger-emb');
      let refresh = printer.refresh;
      try {
        for (let i = 0; i < 3; i++) {
          host.advanceClock(60 * 86400);
          refresh = (await oauth.refreshTokenGrant(emb, refresh)).refresh_token!;
        }
      } finally {
        host.advanceClock(-180 * 86400);
      }
    });
  });

  describe('Cosmos requests per operation', () => {
    it('token refresh ≤ 2, device authorization 2, device-code poll ≤ 2, user-code look-up 3, password grant ≤ 4 (3 when repeated)', async () => {
      const emb = await oauthClient(host, 'roger-emb');
      a.deviceRefresh = (await oauth.refreshTokenGrant(emb, a.deviceRefresh)).refresh_token!;
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);

      const desktop = await oauthClient(host, 'roger-desktop');
      const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs offline_access' });
      // One item per device code, its id derived from the user code: one create; and the
      // caller's count of codes created (one patch; tests/hardening/edge-rate-limits).
      expect(lastCosmosRequests(host, '/oauth/device_authorization')).toBe(2);
      const fields = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-desktop', device_code: authorization.device_code };
      expect((await tokenRequest(host, fields)).body.error).toBe('authorization_pending');
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);
      expect((await api(host, a.carol, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(200);
      // The caller's wrong-code slot taken, the record, the slot given back (a code found is no miss).
      expect(lastCosmosRequests(host, '/api/device-codes/{user_code}')).toBe(3);
      await api(host, a.carol, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
      host.advanceClock(2);
      try {
        expect((await tokenRequest(host, fields)).status).toBe(200);
      } finally {
        host.advanceClock(-2);
      }
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);

      // The printer's record (disconnection is immediate), the look-up, the user, the write.
      expect((await pinAtPrinter(a.device, 'carol', '2468')).status).toBe(200);
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(4);
      // A name this instance has resolved before: the printer, the user read, the write (no look-up read).
      expect((await pinAtPrinter(a.device, 'carol', '2468')).status).toBe(200);
      expect(lastCosmosRequests(host, '/oauth/token')).toBe(3);
      await mobileSignIn(host, 'fabrikam', carol);
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(3);
    });
  });

  describe('logs', () => {
    it('no PIN, password, token, user code, email or name appears in any log line', async () => {
      const secrets = [admin, carol, otherAdmin, dave].flatMap((p) => [p.password, p.email, p.fullName, ...(p.pin ? [p.pin] : [])]);
      const text = host.logs.join('\n');
      // A PIN is a few digits, which hex ids and timestamps in the log also hold: look for it as a value.
      for (const secret of secrets) {
        if (/^[0-9]+$/.test(secret)) expect(text, secret).not.toMatch(new RegExp(`(?<![0-9a-f:.T-])${secret}(?![0-9a-f:.Z])`));
        else expect(text, secret).not.toContain(secret);
      }
      expect(text).not.toMatch(/rt1\.|dc1\.|eyJ|[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/);
      expect(text).not.toContain(b.sessionCode);
      expect(host.logs.length).toBeGreaterThan(50);
    });
  });
});

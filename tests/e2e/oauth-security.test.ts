import { randomBytes } from 'node:crypto';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
import type { JobDoc } from '../../shared/jobs/jobs.js';
import { releaseTopicName } from '../../shared/messaging/messaging.js';
import { recordUsage } from '../../shared/usage/usage.js';
import { api, lastCosmosRequests, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, tokenRequest, type Person } from '../helpers/roger.js';
import { enrolledPrinter, freshTenant } from '../helpers/fixtures.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { readLogins } from '../races/race-kit.js';

/** Each security rule of docs/security.md that the OAuth slice owns, as a test that fails if the rule breaks. */
const admin: Person = { email: 'root@fabrikam.test', username: 'root', fullName: 'Rita Root', password: 'root-password-1' };
const carol: Person = {
  email: 'carol@fabrikam.test',
  username: 'carol',
  fullName: 'Carol Smith',
  password: 'carol-password-1',
  pin: '2468',
};
const otherAdmin: Person = { email: 'boss@woodgrove.test', username: 'boss', fullName: 'Bea Boss', password: 'boss-password-1' };
const dave: Person = { email: 'dave@woodgrove.test', username: 'dave', fullName: 'Dave Doe', password: 'dave-password-1', pin: '1357' };

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const SCIM_PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * Two tenants side by side: in A (Fabrikam) the admin, Carol and a printer with Carol signed in
 * at its panel; in B (Woodgrove) the admin, Dave, a printer showing a session code, Dave's queued
 * job and a scan profile: everything a token of A might try to reach.
 */
interface TwoTenants {
  a: { slug: string; tenantId: string; admin: string; carol: string; carolId: string; device: string; deviceId: string };
  b: {
    slug: string;
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
  aSession: string;
  /** Each tenant's SCIM token, a user and a group provisioned with it (B's group has B's user and Dave as members). */
  scim: { a: ScimSide; b: ScimSide };
}

interface ScimSide {
  token: string;
  userId: string;
  userName: string;
  externalId: string;
  groupId: string;
  groupName: string;
  groupExternalId: string;
}

describe('OAuth security rules', () => {
  let host: TestHost;
  /**
   * Read by the tests that only look (token checks, isolation probes). What a test changes or
   * counts (a lock, a rate limit, a rotation, a clock) it does on people, printers and codes of
   * its own, or on a world of its own.
   */
  let world: TwoTenants;

  const pinAtPrinter = (deviceAccess: string, username: string, pin: string, scope = 'jobs:submit') =>
    tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope }, deviceAccess);

  async function twoTenants(): Promise<TwoTenants> {
    const [ta, tb] = await Promise.all([
      freshTenant(host, 'fabrikam', admin, [carol], { lockoutThreshold: 5, lockoutSeconds: 30 }),
      freshTenant(host, 'woodgrove', otherAdmin, [dave]),
    ]);
    const [printerA, printerB] = await Promise.all([
      enrolledPrinter(host, ta.admin.token, 'A printer'),
      enrolledPrinter(host, tb.admin.token, 'B printer'),
    ]);
    const a = {
      slug: ta.slug,
      tenantId: ta.id,
      admin: ta.admin.token,
      carol: ta.users[0]!.token,
      carolId: ta.users[0]!.id,
      device: printerA.access,
      deviceId: printerA.deviceId,
    };
    const daveToken = tb.users[0]!.token;
    const session = await oauth.initiateDeviceAuthorization(await oauthClient(host, 'roger-emb', () => printerB.access), {
      scope: 'session',
    });
    const jobId = (await api(host, daveToken, 'POST', '/api/jobs', { fileName: 'b.pdf', size: 10 })).body.id as string;
    await api(host, daveToken, 'POST', `/api/jobs/${jobId}/ready`);
    const aSession = (await pinAtPrinter(a.device, 'carol', '2468', 'jobs:submit scan')).body.access_token as string;
    const profile = { name: 'B only', format: 'pdf', resolution: 300, color: 'color', duplex: true, roles: ['user', 'admin'], userIds: [] };
    const profileId = (await api(host, tb.admin.token, 'POST', '/api/scan-profiles', profile)).body.id as string;
    const b = {
      slug: tb.slug,
      tenantId: tb.id,
      admin: tb.admin.token,
      dave: daveToken,
      daveId: tb.users[0]!.id,
      device: printerB.access,
      deviceId: printerB.deviceId,
      sessionCode: session.user_code,
      jobId,
      profileId,
    };
    const [scimA, scimB] = await Promise.all([scimSide(a.admin, a.carolId), scimSide(b.admin, b.daveId)]);
    return { a, b, aSession, scim: { a: scimA, b: scimB } };
  }

  /** A SCIM token of the tenant, a user provisioned with it, and a group of that user and `memberId`. */
  async function scimSide(adminToken: string, memberId: string): Promise<ScimSide> {
    const token = (await api(host, adminToken, 'POST', '/api/tenant/scim-tokens', {})).body.token as string;
    const tag = randomBytes(4).toString('hex');
    const userName = `scim-${tag}@provisioned.test`;
    const externalId = crypto.randomUUID();
    const user = await scim(token, 'POST', '/Users', {
      schemas: [SCIM_USER],
      userName,
      externalId,
      displayName: `Provisioned ${tag}`,
      emails: [{ type: 'work', primary: true, value: userName }],
    });
    if (user.status !== 201) throw new Error(`SCIM user: ${user.status} ${JSON.stringify(user.body)}`);
    const groupName = `Group ${tag}`;
    const groupExternalId = crypto.randomUUID();
    const group = await scim(token, 'POST', '/Groups', {
      schemas: [SCIM_GROUP],
      displayName: groupName,
      externalId: groupExternalId,
      members: [{ value: user.body.id }, { value: memberId }],
    });
    if (group.status !== 201) throw new Error(`SCIM group: ${group.status} ${JSON.stringify(group.body)}`);
    return { token, userId: user.body.id, userName, externalId, groupId: group.body.id, groupName, groupExternalId };
  }

  /** A request to /scim/v2 with a SCIM token, as an identity provider sends it. */
  async function scim(token: string, method: string, path: string, body?: unknown) {
    const response = await fetch(`${host.url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** The ids a SCIM list answers (one page of up to 100: each tenant here has a handful of users and groups). */
  const scimIds = async (token: string, path: string) => {
    const list = await scim(token, 'GET', path);
    expect(list.status, path).toBe(200);
    return ((list.body.Resources ?? []) as { id: string }[]).map((r) => r.id);
  };
  const scimFilter = (resource: 'Users' | 'Groups', expression: string) => `/${resource}?filter=${encodeURIComponent(expression)}`;

  /** Each grant once, right and wrong: sign-ins, PINs, a rotation and a reuse, a desktop's device flow, a revocation. */
  async function everyGrant({ a }: TwoTenants) {
    const mobile = await oauthClient(host, 'roger-mobile');
    const signedIn = await mobileSignIn(host, a.slug, carol);
    const rotated = await oauth.refreshTokenGrant(mobile, signedIn.refresh_token!);
    await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, signedIn.refresh_token!));
    await oauthErrorOf(() => mobileSignIn(host, a.slug, { ...carol, password: 'not-her-password-1' }));
    await pinAtPrinter(a.device, 'carol', '0000');
    await pinAtPrinter(a.device, 'carol', '2468');
    const desktop = await oauth.initiateDeviceAuthorization(await oauthClient(host, 'roger-desktop'), { scope: 'jobs offline_access' });
    await api(host, a.carol, 'GET', `/api/device-codes/${desktop.user_code}`);
    await api(host, a.carol, 'POST', '/api/device-codes/approve', { user_code: desktop.user_code });
    await tokenRequest(host, {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: 'roger-desktop',
      device_code: desktop.device_code,
    });
    await oauth.tokenRevocation(mobile, rotated.refresh_token!, { token_type_hint: 'refresh_token' });
  }

  /** Tenant isolation: one probe per authenticated route, for A's tokens against B; a new route must add its own (a test checks). */
  const probesOf = (w: TwoTenants): Record<string, () => Promise<number>> => ({
    'users-get': async () => (await api(host, w.a.admin, 'GET', `/api/users/${w.b.daveId}`)).status,
    'users-credentials': async () => (await api(host, w.a.admin, 'PUT', `/api/users/${w.b.daveId}/credentials`, { pin: '9999' })).status,
    'users-create': async () => {
      // The tenant comes from the token: a body cannot name another tenant at all...
      const attempt = await api(host, w.a.admin, 'POST', '/api/users', {
        ...dave,
        email: 'x@a.test',
        username: 'dave2',
        tenantId: w.b.tenantId,
      });
      expect(attempt.status).toBe(400);
      // ...and a user created by A's admin is in A: B's admin cannot see it.
      const created = await api(host, w.a.admin, 'POST', '/api/users', { ...dave, email: 'dave3@a.test', username: 'dave3' });
      return (await api(host, w.b.admin, 'GET', `/api/users/${created.body.id}`)).status;
    },
    'device-codes-get': async () => (await api(host, w.a.carol, 'GET', `/api/device-codes/${w.b.sessionCode}`)).status,
    'device-codes-approve': async () =>
      (await api(host, w.a.carol, 'POST', '/api/device-codes/approve', { user_code: w.b.sessionCode })).status,
    'device-codes-deny': async () => (await api(host, w.a.carol, 'POST', '/api/device-codes/deny', { user_code: w.b.sessionCode })).status,
    'jobs-get': async () => (await api(host, w.a.admin, 'GET', `/api/jobs/${w.b.jobId}`)).status,
    'jobs-cancel': async () => (await api(host, w.a.admin, 'DELETE', `/api/jobs/${w.b.jobId}`)).status,
    'jobs-ready': async () => (await api(host, w.a.admin, 'POST', `/api/jobs/${w.b.jobId}/ready`)).status,
    'jobs-release': async () => (await api(host, w.aSession, 'POST', `/api/jobs/${w.b.jobId}/release`)).status,
    'jobs-printed': async () => (await api(host, w.aSession, 'POST', `/api/jobs/${w.b.jobId}/printed`)).status,
    'jobs-list': async () => {
      const list = await api(host, w.a.admin, 'GET', '/api/jobs?limit=100');
      expect(list.body.items.map((job: { id: string }) => job.id)).not.toContain(w.b.jobId);
      return 404; // lists are read in the caller's own partition only
    },
    'jobs-create': async () => {
      const created = await api(host, w.a.carol, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1, tenantId: w.b.tenantId });
      expect(created.status).toBe(400); // no tenant in the body, ever
      const mine = await api(host, w.a.carol, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
      return (await api(host, w.b.dave, 'GET', `/api/jobs/${mine.body.id}`)).status;
    },
    'users-list': async () => {
      const list = await api(host, w.a.admin, 'GET', '/api/users?limit=100');
      expect(list.body.items.map((u: { id: string }) => u.id)).not.toContain(w.b.daveId);
      expect((await api(host, w.a.admin, 'GET', '/api/users?q=dave')).body.items.map((u: { id: string }) => u.id)).not.toContain(
        w.b.daveId,
      );
      return 404;
    },
    'users-update': async () => (await api(host, w.a.admin, 'PATCH', `/api/users/${w.b.daveId}`, { role: 'admin' })).status,
    'users-pin-reset': async () => (await api(host, w.a.admin, 'POST', `/api/users/${w.b.daveId}/pin-reset`)).status,
    'users-logins': async () => (await api(host, w.a.admin, 'GET', `/api/users/${w.b.daveId}/logins`)).status,
    'users-export': async () => (await api(host, w.a.admin, 'GET', `/api/users/${w.b.daveId}/export`)).status,
    // ID badges: B's admin registers one for Dave; A's admin can neither see, add to nor remove Dave's.
    'badges-list': async () => {
      await api(host, w.b.admin, 'POST', `/api/users/${w.b.daveId}/badges`, { number: randomBytes(6).toString('hex') });
      return (await api(host, w.a.admin, 'GET', `/api/users/${w.b.daveId}/badges`)).status;
    },
    'badges-create': async () =>
      (await api(host, w.a.admin, 'POST', `/api/users/${w.b.daveId}/badges`, { number: randomBytes(6).toString('hex') })).status,
    'badges-delete': async () => {
      const badge = await api(host, w.b.admin, 'POST', `/api/users/${w.b.daveId}/badges`, { number: randomBytes(6).toString('hex') });
      const status = (await api(host, w.a.admin, 'DELETE', `/api/users/${w.b.daveId}/badges/${badge.body.id}`)).status;
      const kept = await api(host, w.b.admin, 'GET', `/api/users/${w.b.daveId}/badges`);
      expect(kept.body.items.map((b: { id: string }) => b.id)).toContain(badge.body.id);
      return status;
    },
    'me-badges-create': async () => {
      // A number Dave holds in B is free in A: badges are unique per tenant, and a session registers for its own person only.
      const number = randomBytes(6).toString('hex');
      expect((await api(host, w.b.admin, 'POST', `/api/users/${w.b.daveId}/badges`, { number })).status).toBe(201);
      const before = (await api(host, w.b.admin, 'GET', `/api/users/${w.b.daveId}/badges`)).body;
      // Registering at a printer needs badges on in A and Carol's PIN (docs/security.md#badges): turned on for this probe only.
      expect((await api(host, w.a.admin, 'PATCH', '/api/tenant', { policy: { badgeSignIn: 'badge' } })).status).toBe(200);
      expect((await api(host, w.aSession, 'POST', '/api/me/badges', { number, pin: '2468' })).status).toBe(201);
      expect((await api(host, w.a.admin, 'PATCH', '/api/tenant', { policy: { badgeSignIn: 'off' } })).status).toBe(200);
      expect((await api(host, w.b.admin, 'GET', `/api/users/${w.b.daveId}/badges`)).body).toEqual(before);
      return 404; // the session's own tenant and person, from the token
    },
    'users-erase': async () => {
      // Idempotent 204 for an id it cannot see, but nothing of B's is touched ("B's data is unchanged" checks).
      expect((await api(host, w.a.admin, 'DELETE', `/api/users/${w.b.daveId}`)).status).toBe(204);
      return (await api(host, w.a.admin, 'GET', `/api/users/${w.b.daveId}`)).status;
    },
    'me-logins': async () => {
      expect((await api(host, w.a.carol, 'GET', '/api/me/logins')).status).toBe(200);
      return 404; // the caller's own history only
    },
    'me-pin': async () => {
      expect((await api(host, w.a.carol, 'PUT', '/api/me/pin', { current: '1357', pin: '9999' })).status).toBe(403); // Dave's PIN means nothing in A
      return 404;
    },
    'tenant-get': async () => {
      expect((await api(host, w.a.admin, 'GET', '/api/tenant')).body.id).toBe(w.a.tenantId);
      return 404; // the caller's own tenant, from the token
    },
    'tenant-update': async () => {
      expect((await api(host, w.a.admin, 'PATCH', '/api/tenant', { name: 'A', tenantId: w.b.tenantId })).status).toBe(400);
      return 404; // B's tenant keeps its name: "B's data is unchanged" checks
    },
    'tenant-entra-connect': async () => {
      // No body names a tenant: the pending consent is the caller's own, and only an admin may start one.
      expect((await api(host, w.a.carol, 'POST', '/api/tenant/entra/connect')).status).toBe(403);
      expect((await api(host, w.a.admin, 'POST', '/api/tenant/entra/connect', { tenantId: w.b.tenantId })).status).toBe(200);
      return 404; // B's tenant is bound to nothing afterwards: "B's data is unchanged" checks its item
    },
    'reports-usage': async () => {
      // B has printed today (written as a printed report writes it): A's report holds none of it.
      const { store, now } = await host.services();
      const day = now().toISOString().slice(0, 10);
      const report = (groupBy: string) => api(host, w.a.admin, 'GET', `/api/reports/usage?from=${day}&to=${day}&groupBy=${groupBy}`);
      const before = (await report('day')).body.totals;
      const bPrinted = { tenantId: w.b.tenantId, userId: w.b.daveId, username: 'dave', releasedTo: w.b.deviceId };
      await recordUsage(
        store,
        { ...bPrinted, printed: { pages: 3, sheets: 3, colorPages: 0, duplex: false, paperSize: 'A4' } } as JobDoc,
        now(),
      );
      for (const groupBy of ['user', 'printer', 'day']) {
        const answer = await report(groupBy);
        expect(answer.status).toBe(200);
        expect(JSON.stringify(answer.body)).not.toContain(w.b.daveId);
        expect(JSON.stringify(answer.body)).not.toContain(w.b.deviceId);
        expect(answer.body.totals, groupBy).toEqual(before);
      }
      return 404; // the caller's own tenant, from the token
    },
    'me-usage': async () => {
      const own = await api(host, w.a.carol, 'GET', '/api/me/usage');
      expect(own.status).toBe(200);
      expect(JSON.stringify(own.body)).not.toContain(w.b.daveId);
      return 404; // the caller's own figures only
    },
    'audit-list': async () => {
      const log = await api(host, w.a.admin, 'GET', '/api/audit?limit=100');
      expect(JSON.stringify(log.body)).not.toContain(w.b.daveId);
      return 404;
    },
    'devices-list': async () => {
      const list = await api(host, w.a.admin, 'GET', '/api/devices?limit=100');
      expect(list.body.items.map((d: { id: string }) => d.id)).not.toContain(w.b.deviceId);
      return 404;
    },
    'devices-update': async () => (await api(host, w.a.admin, 'PATCH', `/api/devices/${w.b.deviceId}`, { name: 'taken' })).status,
    'devices-delete': async () => (await api(host, w.a.admin, 'DELETE', `/api/devices/${w.b.deviceId}`)).status,
    'devices-amqp-token': async () => {
      const token = await api(host, w.a.device, 'POST', '/api/devices/me/amqp-token');
      expect(token.body.entityPath).toBe(`${releaseTopicName(0)}/subscriptions/${w.a.deviceId}`);
      return 404; // the printer's own subscription is the only one it can get a token for
    },
    'onedrive-connect': async () => {
      const started = await api(host, w.a.carol, 'GET', '/api/onedrive/connect');
      expect(started.status).toBe(200);
      return 404; // it starts a consent for the caller only: the user and tenant come from the token
    },
    'onedrive-disconnect': async () => {
      expect((await api(host, w.a.carol, 'DELETE', '/api/onedrive')).status).toBe(204);
      return 404; // forgets the caller's own link, the only one it can name
    },
    'onedrive-print-list': async () => {
      expect((await api(host, w.aSession, 'GET', '/api/onedrive/print')).body.type).toMatch(/onedrive-not-connected$/);
      return 404; // the caller's own drive only
    },
    'onedrive-print-file': async () => {
      expect((await api(host, w.aSession, 'POST', '/api/onedrive/print', { itemId: 'ITEMOFB' })).body.type).toMatch(
        /onedrive-not-connected$/,
      );
      return 404; // items are looked up in the caller's own drive only
    },
    'scan-profiles-list': async () => {
      const list = await api(host, w.a.admin, 'GET', '/api/scan-profiles');
      expect(list.body.items.map((p: { id: string }) => p.id)).not.toContain(w.b.profileId);
      return 404;
    },
    'scan-profiles-create': async () => {
      const body = { name: 'A', format: 'pdf', resolution: 300, color: 'color', duplex: true, roles: ['user'], userIds: [] };
      expect((await api(host, w.a.admin, 'POST', '/api/scan-profiles', { ...body, tenantId: w.b.tenantId })).status).toBe(400);
      const created = await api(host, w.a.admin, 'POST', '/api/scan-profiles', body);
      return (await api(host, w.b.admin, 'GET', `/api/scan-profiles/${created.body.id}`)).status;
    },
    'scan-profiles-get': async () => (await api(host, w.a.admin, 'GET', `/api/scan-profiles/${w.b.profileId}`)).status,
    'scan-profiles-update': async () =>
      (await api(host, w.a.admin, 'PATCH', `/api/scan-profiles/${w.b.profileId}`, { name: 'taken' })).status,
    'scan-profiles-delete': async () => {
      expect((await api(host, w.a.admin, 'DELETE', `/api/scan-profiles/${w.b.profileId}`)).status).toBe(204);
      // Nothing was deleted in A's tenant, so nothing is audited there either.
      expect(JSON.stringify((await api(host, w.a.admin, 'GET', '/api/audit?limit=100')).body)).not.toContain(w.b.profileId);
      return (await api(host, w.b.admin, 'GET', `/api/scan-profiles/${w.b.profileId}`)).status === 200 ? 404 : 500; // still there in B
    },
    'scim-tokens-create': async () => {
      // The tenant comes from the admin's user item: a body cannot name another one, and the token names A.
      expect((await api(host, w.a.carol, 'POST', '/api/tenant/scim-tokens', {})).status).toBe(403);
      expect((await api(host, w.a.admin, 'POST', '/api/tenant/scim-tokens', { tenantId: w.b.tenantId })).status).toBe(400);
      const created = await api(host, w.a.admin, 'POST', '/api/tenant/scim-tokens', {});
      expect(created.body.token.split('.')[1]).toBe(w.a.tenantId);
      const inB = (await api(host, w.b.admin, 'GET', '/api/tenant/scim-tokens')).body.items as { id: string }[];
      return inB.some((token) => token.id === created.body.id) ? 500 : 404;
    },
    'scim-tokens-list': async () => {
      const inB = (await api(host, w.b.admin, 'POST', '/api/tenant/scim-tokens', {})).body.id;
      const inA = (await api(host, w.a.admin, 'GET', '/api/tenant/scim-tokens')).body.items as { id: string }[];
      return inA.some((token) => token.id === inB) ? 500 : 404;
    },
    'scim-tokens-revoke': async () => {
      const inB = (await api(host, w.b.admin, 'POST', '/api/tenant/scim-tokens', {})).body.id;
      expect((await api(host, w.a.admin, 'DELETE', `/api/tenant/scim-tokens/${inB}`)).status).toBe(204);
      const listed = (await api(host, w.b.admin, 'GET', '/api/tenant/scim-tokens')).body.items as { id: string; revokedAt?: string }[];
      return listed.find((token) => token.id === inB)?.revokedAt === undefined ? 404 : 500; // still live in B
    },
    // SCIM (docs/provisioning.md): a token of A answers 404 for every id of B, its filters never
    // find B's users or groups, and B's token cannot reach A's either.
    'scim-users-get': async () => {
      for (const id of [w.b.daveId, w.scim.b.userId]) expect((await scim(w.scim.a.token, 'GET', `/Users/${id}`)).status).toBe(404);
      for (const id of [w.a.carolId, w.scim.a.userId]) expect((await scim(w.scim.b.token, 'GET', `/Users/${id}`)).status).toBe(404);
      return (await scim(w.scim.a.token, 'GET', `/Users/${w.scim.b.userId}`)).status;
    },
    'scim-users-list': async () => {
      const ofB = [w.b.daveId, w.scim.b.userId];
      const listed = await scimIds(w.scim.a.token, '/Users?count=100');
      for (const id of ofB) expect(listed).not.toContain(id);
      for (const filter of [
        `userName eq "${w.scim.b.userName}"`,
        `userName eq "${dave.email}"`,
        `externalId eq "${w.scim.b.externalId}"`,
        `emails[type eq "work"].value eq "${w.scim.b.userName}"`,
        `emails.value eq "${dave.email}"`,
        ...ofB.map((id) => `id eq "${id}"`),
      ]) {
        // Not necessarily empty: scim-users-create gives A a user of B's userName and externalId.
        const found = await scimIds(w.scim.a.token, scimFilter('Users', filter));
        for (const id of ofB) expect(found, filter).not.toContain(id);
      }
      for (const filter of [`userName eq "${carol.email}"`, `externalId eq "${w.scim.a.externalId}"`, `id eq "${w.a.carolId}"`]) {
        expect(await scimIds(w.scim.b.token, scimFilter('Users', filter)), filter).toEqual([]); // no probe gives B names of A's
      }
      return 404; // a list is read in the token's own tenant only
    },
    'scim-users-create': async () => {
      // B's userName and externalId are free in A (no 409 tells A they exist elsewhere); a tenant in the body means nothing.
      const created = await scim(w.scim.a.token, 'POST', '/Users', {
        schemas: [SCIM_USER],
        userName: w.scim.b.userName,
        externalId: w.scim.b.externalId,
        tenantId: w.b.tenantId,
      });
      expect(created.status).toBe(201);
      expect(await scimIds(w.scim.b.token, scimFilter('Users', `externalId eq "${w.scim.b.externalId}"`))).toEqual([w.scim.b.userId]);
      return (await scim(w.scim.b.token, 'GET', `/Users/${created.body.id}`)).status;
    },
    'scim-users-replace': async () => {
      const body = (userName: string) => ({ schemas: [SCIM_USER], userName, active: false });
      for (const id of [w.b.daveId, w.scim.b.userId]) {
        expect((await scim(w.scim.a.token, 'PUT', `/Users/${id}`, body(`taken-${id}@a.test`))).status).toBe(404);
      }
      expect((await scim(w.scim.b.token, 'PUT', `/Users/${w.a.carolId}`, body('carol-taken@b.test'))).status).toBe(404);
      return (await scim(w.scim.a.token, 'PUT', `/Users/${w.scim.b.userId}`, body('again@a.test'))).status;
    },
    'scim-users-patch': async () => {
      const off = { schemas: [SCIM_PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] };
      for (const id of [w.b.daveId, w.scim.b.userId]) expect((await scim(w.scim.a.token, 'PATCH', `/Users/${id}`, off)).status).toBe(404);
      expect((await scim(w.scim.b.token, 'PATCH', `/Users/${w.a.carolId}`, off)).status).toBe(404);
      return (await scim(w.scim.a.token, 'PATCH', `/Users/${w.b.daveId}`, off)).status;
    },
    'scim-users-delete': async () => {
      for (const id of [w.b.daveId, w.scim.b.userId]) expect((await scim(w.scim.a.token, 'DELETE', `/Users/${id}`)).status).toBe(404);
      expect((await scim(w.scim.b.token, 'DELETE', `/Users/${w.a.carolId}`)).status).toBe(404);
      return (await scim(w.scim.b.token, 'GET', `/Users/${w.scim.b.userId}`)).status === 200 ? 404 : 500; // still there in B
    },
    'scim-groups-get': async () => {
      expect((await scim(w.scim.b.token, 'GET', `/Groups/${w.scim.a.groupId}`)).status).toBe(404);
      return (await scim(w.scim.a.token, 'GET', `/Groups/${w.scim.b.groupId}`)).status;
    },
    'scim-groups-list': async () => {
      expect(await scimIds(w.scim.a.token, '/Groups?count=100')).not.toContain(w.scim.b.groupId);
      expect(await scimIds(w.scim.a.token, '/Groups?excludedAttributes=members')).not.toContain(w.scim.b.groupId);
      for (const filter of [
        `displayName eq "${w.scim.b.groupName}"`,
        `externalId eq "${w.scim.b.groupExternalId}"`,
        `id eq "${w.scim.b.groupId}"`,
      ]) {
        // A group of B's name and externalId may exist in A (scim-groups-create makes one): never B's.
        expect(await scimIds(w.scim.a.token, scimFilter('Groups', filter)), filter).not.toContain(w.scim.b.groupId);
      }
      expect(await scimIds(w.scim.b.token, scimFilter('Groups', `displayName eq "${w.scim.a.groupName}"`))).not.toContain(w.scim.a.groupId);
      return 404;
    },
    'scim-groups-create': async () => {
      // A user of B cannot be a member of A's group; B's group name and externalId are free in A.
      const group = { schemas: [SCIM_GROUP], displayName: w.scim.b.groupName, externalId: w.scim.b.groupExternalId };
      const withB = await scim(w.scim.a.token, 'POST', '/Groups', { ...group, members: [{ value: w.b.daveId }] });
      expect(withB.status).toBe(400);
      expect(withB.body.scimType).toBe('invalidValue');
      const created = await scim(w.scim.a.token, 'POST', '/Groups', group);
      expect(created.status).toBe(201);
      return (await scim(w.scim.b.token, 'GET', `/Groups/${created.body.id}`)).status;
    },
    'scim-groups-replace': async () => {
      const body = { schemas: [SCIM_GROUP], displayName: 'Taken', members: [] };
      expect((await scim(w.scim.b.token, 'PUT', `/Groups/${w.scim.a.groupId}`, body)).status).toBe(404);
      return (await scim(w.scim.a.token, 'PUT', `/Groups/${w.scim.b.groupId}`, body)).status;
    },
    'scim-groups-patch': async () => {
      const add = (id: string) => ({ schemas: [SCIM_PATCH], Operations: [{ op: 'Add', path: 'members', value: [{ value: id }] }] });
      // A's own group cannot take B's user either.
      const intoA = await scim(w.scim.a.token, 'PATCH', `/Groups/${w.scim.a.groupId}`, add(w.b.daveId));
      expect(intoA.status).toBe(400);
      expect((await scim(w.scim.b.token, 'PATCH', `/Groups/${w.scim.a.groupId}`, add(w.b.daveId))).status).toBe(404);
      return (await scim(w.scim.a.token, 'PATCH', `/Groups/${w.scim.b.groupId}`, add(w.a.carolId))).status;
    },
    'scim-groups-delete': async () => {
      expect((await scim(w.scim.b.token, 'DELETE', `/Groups/${w.scim.a.groupId}`)).status).toBe(404);
      expect((await scim(w.scim.a.token, 'DELETE', `/Groups/${w.scim.b.groupId}`)).status).toBe(404);
      return (await scim(w.scim.b.token, 'GET', `/Groups/${w.scim.b.groupId}`)).status === 200 ? 404 : 500; // still there in B
    },
    ...Object.fromEntries(
      (
        [
          ['scim-service-provider-config', '/ServiceProviderConfig'],
          ['scim-resource-types', '/ResourceTypes'],
          ['scim-resource-type-get', '/ResourceTypes/User'],
          ['scim-schemas', '/Schemas'],
          ['scim-schema-get', `/Schemas/${SCIM_USER}`],
        ] as const
      ).map(([route, path]) => [
        route,
        async () => {
          // The same static description for every tenant: it names neither.
          const [ofA, ofB] = await Promise.all([scim(w.scim.a.token, 'GET', path), scim(w.scim.b.token, 'GET', path)]);
          expect(ofA.status).toBe(200);
          expect(ofA.body).toEqual(ofB.body);
          for (const tenantId of [w.a.tenantId, w.b.tenantId]) expect(JSON.stringify(ofA.body)).not.toContain(tenantId);
          return 404;
        },
      ]),
    ),
    'scans-create': async () => (await api(host, w.aSession, 'POST', '/api/scans', { profileId: w.b.profileId, fileName: 'x' })).status,
    me: async () => {
      const me = await api(host, w.a.carol, 'GET', '/api/me');
      expect(me.body.tenant.id).toBe(w.a.tenantId);
      return 404; // /api/me has no resource of B to reach: it only ever reads the caller's own items
    },
  });

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    world = await twoTenants();
  });
  afterAll(() => host.close());

  describe('refresh tokens', () => {
    it('reuse of a rotated refresh token revokes its successor (RFC 9700 §4.14.2)', async () => {
      const mobile = await oauthClient(host, 'roger-mobile');
      const original = await mobileSignIn(host, world.a.slug, carol);
      const successor = await oauth.refreshTokenGrant(mobile, original.refresh_token!);
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, original.refresh_token!))).toBe('invalid_grant');
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, successor.refresh_token!))).toBe('invalid_grant');
      expect(host.logs.some((line) => line.startsWith('warning refresh-token-reuse '))).toBe(true);
    });

    it('of two concurrent refreshes with one token exactly one wins', async () => {
      const { refresh_token } = await mobileSignIn(host, world.a.slug, carol);
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refresh_token! }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400).every((r) => r.body.error === 'invalid_grant')).toBe(true);
    });

    it('is bound to its client', async () => {
      const { refresh_token } = await mobileSignIn(host, world.a.slug, carol);
      const desktop = await oauthClient(host, 'roger-desktop');
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(desktop, refresh_token!))).toBe('invalid_grant');
    });

    it('cannot widen the scope', async () => {
      const mobile = await oauthClient(host, 'roger-mobile');
      const { refresh_token } = await mobileSignIn(host, world.a.slug, carol);
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, refresh_token!, { scope: 'jobs scan' }))).toBe('invalid_scope');
    });

    it('rejects a forged token naming a real user and family', async () => {
      const { refresh_token } = await mobileSignIn(host, world.a.slug, carol);
      const forged = `${refresh_token!.slice(0, refresh_token!.lastIndexOf('.'))}.${'A'.repeat(43)}`;
      const result = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: forged });
      expect(result.body.error).toBe('invalid_grant');
      // A forged token must not revoke the real one (no denial of service by guessing).
      const mobile = await oauthClient(host, 'roger-mobile');
      await expect(oauth.refreshTokenGrant(mobile, refresh_token!)).resolves.toBeTruthy();
    });
  });

  describe('access tokens', () => {
    const claims = () => ({
      sub: world.a.carolId,
      client_id: 'roger-mobile',
      scope: 'jobs',
      tid: world.a.tenantId,
      roles: ['admin'],
      jti: 'x',
    });

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
      const { access_token } = await mobileSignIn(host, world.a.slug, carol);
      expect((await api(host, access_token, 'GET', '/api/me')).status).toBe(200);
      const [header, payload, signature] = access_token.split('.');
      const altered = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      altered.tid = world.b.tenantId;
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
      const noRole = await api(host, world.a.carol, 'POST', '/api/users', {
        email: 'x@y.test',
        username: 'xy',
        fullName: 'X',
        password: 'password-123',
      });
      expect(noRole.status).toBe(403);
      const printerAsUser = await api(host, world.a.device, 'POST', '/api/device-codes/approve', { user_code: 'BBBB-BBBB' });
      expect(printerAsUser.status).toBe(403);
      expect(printerAsUser.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    });
  });

  describe('tenant isolation: a token of tenant A never reaches tenant B', () => {
    for (const route of Object.keys(probesOf({} as TwoTenants))) {
      it(`${route}: 403 or 404`, async () => {
        expect([403, 404]).toContain(await probesOf(world)[route]!());
      });
    }

    it("B's data is unchanged after the probes: Dave's PIN, session code, job, printer and scan profile", async () => {
      // Two tenants of its own, every probe run against them: what B holds afterwards is what the probes left.
      const { b, ...rest } = await twoTenants();
      for (const probe of Object.values(probesOf({ b, ...rest }))) await probe();
      expect((await api(host, b.admin, 'GET', `/api/scan-profiles/${b.profileId}`)).body.name).toBe('B only');
      expect((await api(host, b.admin, 'GET', `/api/users/${b.daveId}`)).body).toMatchObject({ role: 'user', username: 'dave' });
      expect((await api(host, b.admin, 'GET', '/api/tenant')).body.name).toBe(`${b.slug} Ltd`);
      expect((await api(host, b.admin, 'GET', '/api/devices')).body.items[0]).toMatchObject({ name: 'B printer', status: 'connected' });
      expect((await pinAtPrinter(b.device, 'dave', '1357')).status).toBe(200);
      expect((await api(host, b.dave, 'GET', `/api/jobs/${b.jobId}`)).body.state).toBe('queued');
      expect((await api(host, b.device, 'POST', '/api/devices/me/amqp-token')).status).toBe(200);
      expect((await api(host, b.dave, 'GET', `/api/device-codes/${b.sessionCode}`)).status).toBe(200);
      // B's provisioned user and group, as B's own SCIM token sees them.
      const scimB = rest.scim.b;
      expect((await scim(scimB.token, 'GET', `/Users/${scimB.userId}`)).body).toMatchObject({
        userName: scimB.userName,
        externalId: scimB.externalId,
        active: true,
      });
      expect((await scim(scimB.token, 'GET', `/Users/${b.daveId}`)).body.active).toBe(true);
      const group = (await scim(scimB.token, 'GET', `/Groups/${scimB.groupId}`)).body;
      expect(group).toMatchObject({ displayName: scimB.groupName, externalId: scimB.groupExternalId });
      expect((group.members as { value: string }[]).map((m) => m.value).sort()).toEqual([scimB.userId, b.daveId].sort());
    });

    it('a printer of A cannot sign in a user of B with their PIN', async () => {
      const result = await pinAtPrinter(world.a.device, 'dave', '1357');
      expect(result.body.error).toBe('invalid_grant');
    });

    it('every authenticated route has a probe', () => {
      // SCIM routes check their token in the handler, not by an auth row: they are probed too.
      const authenticated = routeTable.routes
        .filter((route) => route.auth || route.route.startsWith('scim/v2/'))
        .map((route) => route.name);
      expect(Object.keys(probesOf(world)).sort()).toEqual(authenticated.sort());
    });
  });

  describe('password grant', () => {
    it('is refused to clients other than the printer and the mobile app, and to printers without their token', async () => {
      expect(
        (await tokenRequest(host, { grant_type: 'password', client_id: 'roger-desktop', username: 'carol', password: 'x' })).body.error,
      ).toBe('unauthorized_client');
      const noPrinterToken = await tokenRequest(host, {
        grant_type: 'password',
        client_id: 'roger-emb',
        username: 'carol',
        password: '2468',
      });
      expect(noPrinterToken.status).toBe(401);
      expect(noPrinterToken.body.error).toBe('invalid_client');
      const userTokenAsPrinter = await pinAtPrinter(world.a.carol, 'carol', '2468');
      expect(userTokenAsPrinter.body.error).toBe('invalid_client');
      expect((await tokenRequest(host, { grant_type: 'password', client_id: 'evil', username: 'carol', password: 'x' })).body.error).toBe(
        'invalid_client',
      );
    });

    it('locks the account after 5 wrong PINs: the 6th is rejected even with the right PIN until the lock ends', async () => {
      const eve: Person = { email: 'eve@fabrikam.test', username: 'eve', fullName: 'Eve Example', password: 'eve-password-1', pin: '8642' };
      const eveId = (await api(host, world.a.admin, 'POST', '/api/users', eve)).body.id as string;
      // A printer of its own: failed sign-ins count against the printer as well (printerFailedSignInLimit).
      const printer = await enrolledPrinter(host, world.a.admin, 'Eve printer');
      for (let i = 0; i < 5; i++) expect((await pinAtPrinter(printer.access, 'eve', '0000')).body.error).toBe('invalid_grant');
      const locked = await pinAtPrinter(printer.access, 'eve', '8642');
      expect(locked.status).toBe(400);
      expect(locked.body.error).toBe('invalid_grant');

      host.advanceClock(31); // the first lock lasts 30 s (tenant policy)
      try {
        expect((await pinAtPrinter(printer.access, 'eve', '8642')).status).toBe(200);
      } finally {
        host.advanceClock(-31);
      }

      // Every attempt is in the login history: time, client, success.
      const logins = await readLogins(host, world.a.tenantId, eveId);
      expect(logins.map((l) => l.success)).toEqual([false, false, false, false, false, false, true]);
      expect(logins.every((l) => l.clientId === 'roger-emb' && l.method === 'pin' && !('ip' in l))).toBe(true);
    });

    it('a lock doubles each time it recurs', async () => {
      const frank: Person = {
        email: 'frank@fabrikam.test',
        username: 'frank',
        fullName: 'Frank F',
        password: 'frank-password-1',
        pin: '1111',
      };
      await api(host, world.a.admin, 'POST', '/api/users', frank);
      const printer = await enrolledPrinter(host, world.a.admin, 'Frank printer');
      for (let i = 0; i < 5; i++) await pinAtPrinter(printer.access, 'frank', '0000');
      host.advanceClock(31);
      for (let i = 0; i < 5; i++) await pinAtPrinter(printer.access, 'frank', '0000');
      host.advanceClock(31); // second lock is 60 s: still locked
      try {
        expect((await pinAtPrinter(printer.access, 'frank', '1111')).body.error).toBe('invalid_grant');
        host.advanceClock(30);
        expect((await pinAtPrinter(printer.access, 'frank', '1111')).status).toBe(200);
      } finally {
        host.advanceClock(-92);
      }
    });

    it('answers an unknown user, a wrong PIN and a locked account identically', async () => {
      const unknown = await pinAtPrinter(world.a.device, 'nobody', '1234');
      const wrong = await pinAtPrinter(world.a.device, 'carol', '0000');
      expect(unknown.body).toEqual(wrong.body);
      const mobileUnknownTenant = await tokenRequest(host, {
        grant_type: 'password',
        client_id: 'roger-mobile',
        tenant: 'no-such-tenant',
        username: 'carol',
        password: 'carol-password-1',
      });
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
      const poll = () =>
        tokenRequest(host, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-desktop', device_code });
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
      await api(host, world.a.carol, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
      const fields = {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: 'roger-desktop',
        device_code: authorization.device_code,
      };
      const racing = await Promise.all([tokenRequest(host, fields), tokenRequest(host, fields), tokenRequest(host, fields)]);
      expect(racing.filter((r) => r.status === 200)).toHaveLength(1);
      expect((await tokenRequest(host, fields)).body.error).toBe('invalid_grant');
    });

    it('answers expired_token after the code lifetime', async () => {
      const emb = await oauthClient(host, 'roger-emb', () => world.a.device);
      const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'session' });
      host.advanceClock(121);
      try {
        const result = await tokenRequest(host, {
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          client_id: 'roger-emb',
          device_code: authorization.device_code,
        });
        expect(result.body.error).toBe('expired_token');
        expect((await api(host, world.a.carol, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(404);
      } finally {
        host.advanceClock(-121);
      }
    });

    it('rate-limits user-code guessing per caller (429 after 10 misses)', async () => {
      const mallory: Person = {
        email: 'mallory@fabrikam.test',
        username: 'mallory',
        fullName: 'Mallory M',
        password: 'mallory-password-1',
      };
      await api(host, world.a.admin, 'POST', '/api/users', mallory);
      const guesser = (await mobileSignIn(host, world.a.slug, mallory)).access_token;
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await api(host, guesser, 'GET', '/api/device-codes/BBBB-BBBB')).status);
      expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
      expect(statuses[10]).toBe(429);
      // Per caller: another user of the same tenant is not affected.
      expect((await api(host, world.a.carol, 'GET', '/api/device-codes/BBBB-BBBB')).status).toBe(404);
    });

    it('disconnects a printer whose refresh token was unused for 90 days', async () => {
      const printer = await enrolledPrinter(host, world.a.admin, 'Idle printer');
      host.advanceClock(91 * 86400);
      try {
        const emb = await oauthClient(host, 'roger-emb');
        expect(await oauthErrorOf(() => oauth.refreshTokenGrant(emb, printer.refresh))).toBe('invalid_grant');
        const { store } = await host.services();
        const { resource } = await store.container('accounts').item(printer.deviceId, world.a.tenantId).read<{ status: string }>();
        expect(resource!.status).toBe('disconnected');
      } finally {
        host.advanceClock(-91 * 86400);
      }
    });

    it('a printer used within 90 days stays connected: each refresh restarts the 90 days', async () => {
      const printer = await enrolledPrinter(host, world.a.admin, 'Busy printer');
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
    it('token refresh ≤ 2, device authorization ≤ 2, device-code poll ≤ 2, user-code look-up 3, PIN grant ≤ 6 (4 when repeated)', async () => {
      const printer = await enrolledPrinter(host, world.a.admin, 'Counted printer');
      // A caller of its own for the user code: a look-up costs 3 when this instance knows it counted
      // the caller's wrong-code slots in this window. The expired-code test looks Carol's up 121 s
      // ahead; when that crosses a 10-minute window the instance forgets hers (4, about 1 run in 5).
      const lena: Person = { email: 'lena@fabrikam.test', username: 'lena', fullName: 'Lena Look', password: 'lena-password-1' };
      expect((await api(host, world.a.admin, 'POST', '/api/users', lena)).status).toBe(201);
      const lenaToken = (await mobileSignIn(host, world.a.slug, lena)).access_token;
      const emb = await oauthClient(host, 'roger-emb');
      await oauth.refreshTokenGrant(emb, printer.refresh);
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);

      const desktop = await oauthClient(host, 'roger-desktop');
      const authorization = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs offline_access' });
      // One item per device code, its id derived from the user code: one create; and the
      // caller's count of codes created (one patch; tests/hardening/edge-rate-limits), but for
      // its first on this instance in the window, counted here only: 1 then
      // (tests/integration/rate-limit-first-local.test.ts, where each test address is a client of its own).
      expect(lastCosmosRequests(host, '/oauth/device_authorization')).toBeLessThanOrEqual(2);
      const fields = {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: 'roger-desktop',
        device_code: authorization.device_code,
      };
      expect((await tokenRequest(host, fields)).body.error).toBe('authorization_pending');
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);
      expect((await api(host, lenaToken, 'GET', `/api/device-codes/${authorization.user_code}`)).status).toBe(200);
      // The caller's wrong-code slot taken, the record, the slot given back (a code found is no miss).
      expect(lastCosmosRequests(host, '/api/device-codes/{user_code}')).toBe(3);
      await api(host, lenaToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
      host.advanceClock(2);
      try {
        expect((await tokenRequest(host, fields)).status).toBe(200);
      } finally {
        host.advanceClock(-2);
      }
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(2);

      // The printer's record (disconnection is immediate), the look-up, the user, the user again
      // and the login record; and the printer's failure count, read once per window by an
      // instance that has not seen it. Since login records (docs/data.md#login-records) a success
      // on a clean account writes only its small record, and confirms with a read of the user that
      // no failure locked the account meanwhile (what the user write's ETag did before): one
      // request more, about 1.5 KB less written.
      expect((await pinAtPrinter(world.a.device, 'carol', '2468')).status).toBe(200);
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(6);
      // A name this instance has resolved before: the printer, the user read, the confirming read, the record (no look-up read).
      expect((await pinAtPrinter(world.a.device, 'carol', '2468')).status).toBe(200);
      expect(lastCosmosRequests(host, '/oauth/token')).toBe(4);
      await mobileSignIn(host, world.a.slug, carol);
      expect(lastCosmosRequests(host, '/oauth/token')).toBeLessThanOrEqual(3);
    });
  });

  describe('logs', () => {
    it('no PIN, password, token, user code, email or name appears in any log line', async () => {
      // Traffic of its own that carries every kind of secret: two tenants, every probe, each grant right and wrong.
      const own = await twoTenants();
      for (const probe of Object.values(probesOf(own))) await probe();
      await everyGrant(own);
      const secrets = [admin, carol, otherAdmin, dave].flatMap((p) => [p.password, p.email, p.fullName, ...(p.pin ? [p.pin] : [])]);
      const text = host.logs.join('\n');
      // A PIN is a few digits, which hex ids and timestamps in the log also hold: look for it as a value.
      for (const secret of secrets) {
        if (/^[0-9]+$/.test(secret)) expect(text, secret).not.toMatch(new RegExp(`(?<![0-9a-f:.T-])${secret}(?![0-9a-f:.Z])`));
        else expect(text, secret).not.toContain(secret);
      }
      expect(text).not.toMatch(/rt1\.|dc1\.|eyJ|[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/);
      expect(text).not.toContain(own.b.sessionCode);
      expect(host.logs.length).toBeGreaterThan(50);
    });
  });
});

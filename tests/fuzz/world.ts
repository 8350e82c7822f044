import { browserGet } from '../helpers/microsoft.js';
import { enrollPrinter, pinSession } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Real data for the fuzzer, so that authenticated routes are reached past authentication:
 * a tenant with an admin and a user, an enrolled printer, a session at it, a job, a scan
 * profile, the user's OneDrive connected (local Entra ID and Graph), the device page's CSRF
 * cookie, and a SCIM token of the tenant. Every credential kind a route may ask for is here.
 */
export const admin: Person = { email: 'ann@fuzz.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12', pin: '8642' };
export const member: Person = { email: 'uma@fuzz.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '4711' };

export interface World {
  readonly host: TestHost;
  readonly tenant: { readonly id: string; readonly slug: string };
  readonly tokens: {
    /** admin, mobile app (`jobs offline_access`) */
    readonly admin: string;
    /** plain user, mobile app */
    readonly user: string;
    /** the printer's device token (`device`) */
    readonly device: string;
    /** the user's PIN session at the printer (`jobs:submit scan`) */
    readonly session: string;
    /** the tenant's SCIM token (`scim1.<tenant>.<token>.<secret>`), for /scim/v2 */
    readonly scim: string;
  };
  readonly ids: {
    readonly adminId: string;
    readonly userId: string;
    readonly deviceId: string;
    readonly jobId: string;
    readonly profileId: string;
    /** a SCIM group of the tenant, with the user as its member */
    readonly groupId: string;
  };
  /** A CSRF token the device page issued, and its cookie. */
  readonly csrf: { readonly token: string; readonly cookie: string };
}

function expectStatus(what: string, status: number, expected: number): void {
  if (status !== expected) throw new Error(`fuzz setup: ${what} answered ${status}, expected ${expected}`);
}

export async function buildWorld(): Promise<World> {
  const host = await startTestHost({ env: oauthEnv });
  const tenant = await createTenant(host, 'fuzz', admin);
  const adminToken = (await mobileSignIn(host, 'fuzz', admin)).access_token;
  const created = await api(host, adminToken, 'POST', '/api/users', member);
  expectStatus('user', created.status, 201);
  const userId = created.body.id as string;
  const userToken = (await mobileSignIn(host, 'fuzz', member)).access_token;

  const printer = await enrollPrinter(host, adminToken, 'Fuzz MFP');
  const session = await pinSession(host, printer, member.username, member.pin!, 'jobs:submit scan');

  // OneDrive for the user, through the in-process Entra ID and Graph stand-in (default account).
  const started = await api(host, userToken, 'GET', '/api/onedrive/connect');
  expectStatus('onedrive connect', started.status, 200);
  // The stand-in serves Entra to MSAL over HTTPS with a certificate of its own: a browser's GET.
  const consent = await browserGet(started.body.authorizationUrl as string);
  expectStatus('entra authorize', consent.status, 302);
  const callback = await fetch(consent.location!, { redirect: 'manual' });
  expectStatus('onedrive callback', callback.status, 200);
  await callback.arrayBuffer();

  const job = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Fuzz report.pdf', size: 1234 });
  expectStatus('job', job.status, 201);
  const profile = await api(host, adminToken, 'POST', '/api/scan-profiles', {
    name: 'Fuzz A4',
    format: 'pdf',
    resolution: 300,
    color: 'color',
    duplex: false,
    roles: ['user', 'admin'],
    userIds: [],
  });
  expectStatus('scan profile', profile.status, 201);
  const me = await api(host, adminToken, 'GET', '/api/me');
  const scimToken = await api(host, adminToken, 'POST', '/api/tenant/scim-tokens', { name: 'Fuzz provisioning' });
  expectStatus('scim token', scimToken.status, 201);
  const group = await fetch(`${host.url}/scim/v2/Groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${scimToken.body.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Fuzz group',
      members: [{ value: userId }],
    }),
  });
  expectStatus('scim group', group.status, 201);
  const groupId = ((await group.json()) as { id: string }).id;

  const page = await fetch(`${host.url}/device`);
  expectStatus('device page', page.status, 200);
  await page.arrayBuffer();
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
  const token = cookie.slice(cookie.indexOf('=') + 1);

  return {
    host,
    tenant: { id: tenant.id, slug: tenant.slug },
    tokens: { admin: adminToken, user: userToken, device: printer.access, session, scim: scimToken.body.token as string },
    ids: { adminId: me.body.user.id, userId, deviceId: printer.deviceId, jobId: job.body.id, profileId: profile.body.id, groupId },
    csrf: { token, cookie },
  };
}

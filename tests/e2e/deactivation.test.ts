import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJob } from '../../shared/jobs/jobs.js';
import type { Services } from '../../shared/services.js';
import { deactivated, reactivated } from '../../shared/users/activation.js';
import { readUser, updateUser, type UserDoc } from '../../shared/users/users.js';
import { enrolledPrinter, freshTenant, individual, type FreshTenant, type Member } from '../helpers/fixtures.js';
import { amqpCredentials, pinSession, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { readLogins } from '../races/race-kit.js';

/**
 * Deactivation (SCIM `active: false`, shared/users/activation.ts; docs/security.md, Deactivation)
 * through every door, over real sockets: the token endpoint's password, PIN and refresh grants,
 * the authorization code grant, the sign-in page and the verification page, the device-code
 * approval (a QR session at the printer releases the queue), a session token held at the
 * printer, and the routes that read their caller. Users are turned off and on as the SCIM code
 * does it: `updateUser` with `deactivated(user, now)` / `reactivated(user)`.
 */
const olga: Person = { email: 'olga@tailspin.test', username: 'olga', fullName: 'Olga Ops', password: 'olga-password-12' };
const uma: Person = { email: 'uma@tailspin.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '5150' };

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let host: TestHost;
let services: Services;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
});
afterAll(() => host?.close());

const stored = async (tenantId: string, userId: string): Promise<UserDoc> => (await readUser(services.store, tenantId, userId))!;

async function turnOff(tenantId: string, userId: string) {
  await updateUser(services.store, await stored(tenantId, userId), (current) => deactivated(current, services.now()));
}

async function turnOn(tenantId: string, userId: string) {
  await updateUser(services.store, await stored(tenantId, userId), (current) => reactivated(current));
}

/** Olga (admin) and Uma (password and PIN, signed in from the app), and a printer Olga enrolled. */
async function tailspin(): Promise<FreshTenant & { uma: Member; printer: EnrolledPrinter }> {
  const tenant = await freshTenant(host, 'tailspin', individual(olga), [individual(uma)]);
  const printer = await enrolledPrinter(host, tenant.admin.token, 'MFP 1st floor');
  return { ...tenant, uma: tenant.users[0]!, printer };
}

const passwordGrant = (slug: string, username: string, password: string) =>
  tokenRequest(host, { grant_type: 'password', client_id: 'roger-mobile', tenant: slug, username, password, scope: 'jobs offline_access' });

const pinGrant = (printer: EnrolledPrinter, username: string, pin: string) =>
  tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope: 'jobs:submit' }, printer.access);

const refreshGrant = (refreshToken: string) =>
  tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refreshToken });

async function queuedJob(token: string, fileName: string): Promise<string> {
  const created = await api(host, token, 'POST', '/api/jobs', { fileName, size: 2048 });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await api(host, token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
  return created.body.id as string;
}

/** The printer's panel asks for a QR session code (RFC 8628 §3.1 with its device token). */
async function sessionCode(printer: EnrolledPrinter) {
  const response = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${printer.access}` },
    body: new URLSearchParams({ client_id: 'roger-emb', scope: 'session' }).toString(),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { device_code: string; user_code: string };
}

describe('deactivation ends every sign-in', () => {
  it('ends the next refresh, password grant and PIN grant, each answered like a wrong secret, and counts no failure', async () => {
    const world = await tailspin();
    const { person } = world.uma;
    // Each works before.
    const refreshed = await refreshGrant(world.uma.refresh);
    expect(refreshed.status).toBe(200);
    expect((await pinGrant(world.printer, person.username, person.pin!)).status).toBe(200);
    const wrongPassword = await passwordGrant(world.slug, person.username, 'not-the-password');
    const wrongPin = await pinGrant(world.printer, person.username, '0000');
    expect(wrongPassword.status).toBe(400);
    expect(wrongPin.status).toBe(400);

    await turnOff(world.id, world.uma.id);

    const password = await passwordGrant(world.slug, person.username, person.password);
    expect(password.status).toBe(400);
    expect(password.body).toEqual(wrongPassword.body); // invalid_grant, and nothing that says why
    const pin = await pinGrant(world.printer, person.username, person.pin!);
    expect(pin.status).toBe(400);
    expect(pin.body).toEqual(wrongPin.body);
    const printerPassword = await pinGrant(world.printer, person.username, person.password);
    expect(printerPassword.body).toEqual(wrongPin.body);
    const refresh = await refreshGrant(refreshed.body.refresh_token);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');

    // Refused attempts are recorded, but count towards no lock: the directory decides when the account comes back.
    const after = await stored(world.id, world.uma.id);
    expect(after.lockout.failures).toBe(2); // the two wrong secrets before, nothing since
    expect((await readLogins(host, world.id, world.uma.id)).slice(-3).map((login) => login.success)).toEqual([false, false, false]);
    expect(after.refreshFamilies).toEqual([]);
  });

  it('refuses a refresh by the deactivation mark itself, even with a family the deactivation did not end', async () => {
    const world = await tailspin();
    // deactivated() ends the families in the same write; a write that set only the mark must not leave sessions alive.
    await updateUser(services.store, await stored(world.id, world.uma.id), (current) => ({
      ...current,
      deactivatedAt: services.now().toISOString(),
    }));
    const refresh = await refreshGrant(world.uma.refresh);
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('releases no job: not at a QR session approval, not with a session token held, and nothing reaches the printer', async () => {
    const world = await tailspin();
    const jobs = [await queuedJob(world.uma.token, 'Payroll.pdf'), await queuedJob(world.uma.token, 'Badge.pdf')];
    // Signed in at the printer before the directory turned Uma off: the session token lives on (20 minutes).
    const session = await pinSession(host, world.printer, world.uma.person.username, world.uma.person.pin!);

    await turnOff(world.id, world.uma.id);

    const released = await api(host, session, 'POST', `/api/jobs/${jobs[0]}/release`);
    expect(released.status, JSON.stringify(released.body)).toBe(401);
    // A QR session approved from the app with an access token still held: refused before anything is released.
    const code = await sessionCode(world.printer);
    const approved = await api(host, world.uma.token, 'POST', '/api/device-codes/approve', { user_code: code.user_code });
    expect(approved.status, JSON.stringify(approved.body)).toBe(401);
    const poll = await tokenRequest(host, { grant_type: DEVICE_CODE_GRANT, client_id: 'roger-emb', device_code: code.device_code });
    expect(poll.body.error).toBe('authorization_pending');

    const credentials = await amqpCredentials(host, world.printer.access);
    const client = printerClient(credentials);
    try {
      expect(await receiveReleases(client, credentials.entityPath, 2, 1000)).toHaveLength(0);
    } finally {
      await client.close();
    }
    for (const jobId of jobs) expect((await readJob(services.store, world.id, world.uma.id, jobId, services.now()))?.state).toBe('queued');
  });

  it('answers 401 on every route that reads its caller, though the access token still verifies', async () => {
    const world = await tailspin();
    await turnOff(world.id, world.admin.id); // the tenant's only admin: the directory is the truth
    await turnOff(world.id, world.uma.id);
    for (const [token, method, path, body] of [
      [world.admin.token, 'GET', '/api/users', undefined],
      [world.admin.token, 'GET', '/api/tenant', undefined],
      [world.admin.token, 'POST', '/api/users', individual(uma)],
      [world.uma.token, 'GET', '/api/me', undefined],
      [world.uma.token, 'GET', '/api/me/logins', undefined],
      [world.uma.token, 'PUT', '/api/me/pin', { current: uma.pin, pin: '86420' }],
      [world.uma.token, 'GET', `/api/users/${world.uma.id}/export`, undefined],
      [world.uma.token, 'POST', '/api/jobs', { fileName: 'After.pdf', size: 10 }],
    ] as const) {
      const answer = await api(host, token, method, path, body);
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(401);
    }
    // An enrollment approved by the deactivated admin enrolls nothing.
    const enrollment = await fetch(`${host.url}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'roger-emb', scope: 'device' }).toString(),
    }).then((response) => response.json() as Promise<{ user_code: string }>);
    const approved = await api(host, world.admin.token, 'POST', '/api/device-codes/approve', {
      user_code: enrollment.user_code,
      name: 'Rogue printer',
    });
    expect(approved.status).toBe(401);
  });

  it('refuses the sign-in page and the verification page like a wrong password, and a code issued before is not exchanged', async () => {
    const world = await tailspin();
    const { person } = world.uma;
    const before = await authorizePage(world.slug, person.username, person.password);
    expect(before.status).toBe(303);
    const code = new URL(before.headers.get('location')!).searchParams.get('code')!;
    const wrongOnPage = await authorizePage(world.slug, person.username, 'not-the-password');
    const wrongOnDevicePage = await devicePage(world.slug, person.username, 'not-the-password');

    await turnOff(world.id, world.uma.id);

    const page = await authorizePage(world.slug, person.username, person.password);
    expect(page.status).toBe(wrongOnPage.status);
    expect(page.status).toBe(403);
    const exchanged = await tokenRequest(host, {
      grant_type: 'authorization_code',
      client_id: 'roger-desktop',
      code,
      redirect_uri: DESKTOP_REDIRECT,
      code_verifier: before.verifier,
    });
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_grant');

    const device = await devicePage(world.slug, person.username, person.password);
    expect(device.status).toBe(wrongOnDevicePage.status);
    expect(device.html).not.toContain('Approve');
    expect(device.html).toContain('The organization, username or password is not right');
  });

  it('reactivation restores sign-in; refresh tokens from before stay dead', async () => {
    const world = await tailspin();
    const { person } = world.uma;
    await turnOff(world.id, world.uma.id);
    await turnOn(world.id, world.uma.id);
    const signedIn = await mobileSignIn(host, world.slug, person);
    expect((await api(host, signedIn.access_token, 'GET', '/api/me')).body.user).toMatchObject({ id: world.uma.id, active: true });
    expect((await pinGrant(world.printer, person.username, person.pin!)).status).toBe(200);
    expect((await refreshGrant(signedIn.refresh_token!)).status).toBe(200);
    const old = await refreshGrant(world.uma.refresh);
    expect(old.status).toBe(400);
    expect(old.body.error).toBe('invalid_grant');
  });
});

const DESKTOP_REDIRECT = 'http://127.0.0.1:53682/callback';

const hidden = (html: string, name: string) => {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  if (!match) throw new Error(`no hidden ${name} in ${html}`);
  return match[1]!.replace(/&amp;/g, '&');
};

/** A browser without JavaScript through the sign-in page's three steps (docs/flows.md, the authorization code grant). */
async function authorizePage(slug: string, username: string, password: string) {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'roger-desktop',
    redirect_uri: DESKTOP_REDIRECT,
    scope: 'jobs offline_access',
    state: 'desktop-state',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const cookies = new Map<string, string>();
  const send = async (path: string, fields?: Record<string, string>) => {
    const response = await fetch(`${host.url}${path}`, {
      method: fields ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(fields ? { body: new URLSearchParams(fields).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return { status: response.status, headers: response.headers, html: await response.text() };
  };
  const start = await send(`/oauth/authorize?${query}`);
  expect(start.status, start.html).toBe(200);
  const step2 = await send('/oauth/authorize', { csrf: hidden(start.html, 'csrf'), ticket: hidden(start.html, 'ticket'), account: slug });
  expect(step2.status, step2.html).toBe(200);
  const done = await send('/oauth/authorize/password', {
    csrf: hidden(step2.html, 'csrf'),
    ticket: hidden(step2.html, 'ticket'),
    username,
    password,
  });
  return { ...done, verifier };
}

/** The verification page's sign-in (docs/flows.md#sign-in), for a desktop's pending code. */
async function devicePage(slug: string, username: string, password: string) {
  const authorization = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'roger-desktop', scope: 'jobs' }).toString(),
  }).then((response) => response.json() as Promise<{ user_code: string }>);
  const get = await fetch(`${host.url}/device`);
  const csrf = /roger_device_csrf=([^;]+)/.exec(get.headers.get('set-cookie')!)![1]!;
  const response = await fetch(`${host.url}/device`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `roger_device_csrf=${csrf}` },
    body: new URLSearchParams({ csrf, user_code: authorization.user_code, tenant: slug, username, password }).toString(),
  });
  return { status: response.status, html: await response.text() };
}

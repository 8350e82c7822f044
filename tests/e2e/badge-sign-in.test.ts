import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { metricNames } from '../../shared/telemetry/metric-names.js';
import { readUser, type UserDoc } from '../../shared/users/users.js';
import { enrolledPrinter, freshTenant, individual } from '../helpers/fixtures.js';
import { pinSession } from '../helpers/printer.js';
import { api, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { counted, recordTelemetry } from '../helpers/telemetry.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Badge sign-in end to end (docs/flows.md#badge-sign-in): a person registers their badge by
 * tapping it at a printer during a session, signs in with it at that printer, and their queued
 * jobs are released with the badge session; under `badge+pin` a wrong PIN locks the account
 * exactly as the same wrong PIN at the PIN command does.
 */
const BADGE_GRANT = 'urn:roger:params:oauth:grant-type:badge';

const admin: Person = { email: 'bo@badges.test', username: 'bo', fullName: 'Bo Boss', password: 'bo-password-12' };
const uma: Person = { email: 'uma@badges.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-1', pin: '4826' };
const pia: Person = { email: 'pia@badges.test', username: 'pia', fullName: 'Pia Pin', password: 'pia-password-1', pin: '5937' };

let host: TestHost;
let services: Services;
let recorder: ReturnType<typeof recordTelemetry>;

beforeAll(async () => {
  recorder = recordTelemetry();
  host = await startTestHost({ env: oauthEnv, telemetry: recorder.telemetry });
  services = await host.services();
});
afterAll(async () => {
  await host?.close();
  await recorder?.shutdown();
});

/** `roger.sign_ins` by method and outcome, as exported so far. */
async function signInCounts(method: string) {
  const exported = await recorder.exported();
  const of = (outcome: string) => counted(exported, metricNames.signIns, { method, outcome });
  return { success: of('success'), failure: of('failure'), locked: of('locked') };
}

const badgeAt = (printer: { access: string }, fields: Record<string, string>) =>
  tokenRequest(host, { grant_type: BADGE_GRANT, client_id: 'roger-emb', ...fields }, printer.access);
const pinAt = (printer: { access: string }, username: string, pin: string) =>
  tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope: 'jobs:submit' }, printer.access);
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

async function queuedJob(userToken: string, fileName: string): Promise<string> {
  const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: 2048, options: { copies: 1 } });
  expect(created.status).toBe(201);
  expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
  return created.body.id as string;
}

describe('badge sign-in at a printer', () => {
  it('registered by tapping it during a session, the badge signs its owner in there and releases their jobs', async () => {
    const tenant = await freshTenant(host, 'badges', admin, [individual(uma)], { badgeSignIn: 'badge' });
    const [member] = tenant.users;
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Lobby MFP');
    const jobs = [await queuedJob(member!.token, 'report.pdf'), await queuedJob(member!.token, 'slides.pdf')];

    // The card reader sends lower-case hex with a stray newline; the badge is the session's person's.
    const session = await pinSession(host, printer, member!.person.username, uma.pin!);
    const registered = await api(host, session, 'POST', '/api/me/badges', { number: '04a1b2c3d4\n', label: 'office card', pin: uma.pin });
    expect(registered.status).toBe(201);

    const signedIn = await badgeAt(printer, { badge: '04A1B2C3D4' });
    expect(signedIn.status).toBe(200);
    expect(signedIn.headers.get('cache-control')).toBe('no-store');
    expect(signedIn.body).toMatchObject({ token_type: 'Bearer', scope: 'jobs:submit scan' });
    expect(signedIn.body).not.toHaveProperty('refresh_token');
    const claims = claimsOf(signedIn.body.access_token as string);
    expect(claims).toMatchObject({ sub: member!.id, tid: tenant.id, client_id: 'roger-emb', act: { sub: printer.deviceId } });
    expect(claims.sid).toEqual(expect.any(String));

    for (const id of jobs) {
      const released = await api(host, signedIn.body.access_token as string, 'POST', `/api/jobs/${id}/release`);
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({ state: 'released', releasedTo: printer.deviceId });
    }
    // Recorded as a badge sign-in, and the badge shows when it was last used (never its number).
    const logins = await api(host, tenant.admin.token, 'GET', `/api/users/${member!.id}/logins`);
    expect(logins.body.items[0]).toMatchObject({ method: 'badge', success: true, clientId: 'roger-emb' });
    const badges = await api(host, tenant.admin.token, 'GET', `/api/users/${member!.id}/badges`);
    expect(badges.body.items).toEqual([expect.objectContaining({ label: 'office card', lastUsedAt: expect.any(String) })]);
    expect(JSON.stringify(badges.body)).not.toMatch(/04A1B2C3D4/i);
  });

  it('badge+pin: a wrong PIN locks the account as the same wrong PINs at the PIN command do', async () => {
    const tenant = await freshTenant(host, 'badgepin', admin, [individual(uma), individual(pia)], {
      badgeSignIn: 'badge+pin',
      lockoutThreshold: 3,
      lockoutSeconds: 120,
    });
    const [badgeHolder, pinTyper] = tenant.users;
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 2 MFP');
    const added = await api(host, tenant.admin.token, 'POST', `/api/users/${badgeHolder!.id}/badges`, { number: '1234567890' });
    expect(added.status).toBe(201);

    // Without the PIN the request is malformed, not a failed attempt: it counts nowhere.
    const withoutPin = await badgeAt(printer, { badge: '1234567890' });
    expect(withoutPin.status).toBe(400);
    expect(withoutPin.body.error).toBe('invalid_request');
    expect(withoutPin.body.error_description).toMatch(/\bpin\b/);

    const [badgeBefore, pinBefore] = [await signInCounts('badge'), await signInCounts('pin')];
    const badgeAnswers = [];
    const pinAnswers = [];
    for (let i = 0; i < 3; i++) {
      badgeAnswers.push(await badgeAt(printer, { badge: '1234567890', pin: '0000' }));
      pinAnswers.push(await pinAt(printer, pinTyper!.person.username, '0000'));
    }
    // Locked now: the right PIN is refused too, by both doors, with their usual invalid_grant.
    badgeAnswers.push(await badgeAt(printer, { badge: '1234567890', pin: uma.pin! }));
    pinAnswers.push(await pinAt(printer, pinTyper!.person.username, pia.pin!));
    for (const answers of [badgeAnswers, pinAnswers]) {
      expect(answers.map((a) => [a.status, a.body.error])).toEqual(Array.from({ length: 4 }, () => [400, 'invalid_grant']));
    }
    expect(new Set(badgeAnswers.map((a) => a.body.error_description)).size).toBe(1);
    // Counted alike in telemetry: 3 failures and 1 refused while locked, each under its own method.
    const [badgeAfter, pinAfter] = [await signInCounts('badge'), await signInCounts('pin')];
    const delta = (after: typeof badgeAfter, before: typeof badgeAfter) => ({
      success: after.success - before.success,
      failure: after.failure - before.failure,
      locked: after.locked - before.locked,
    });
    expect(delta(badgeAfter, badgeBefore)).toEqual({ success: 0, failure: 3, locked: 1 });
    expect(delta(pinAfter, pinBefore)).toEqual(delta(badgeAfter, badgeBefore));

    const stored = async (id: string) => (await readUser(services.store, tenant.id, id)) as UserDoc;
    const [held, typed] = [await stored(badgeHolder!.id), await stored(pinTyper!.id)];
    expect(held.lockout).toMatchObject({ failures: 0, locks: 1 });
    expect(typed.lockout).toMatchObject({ failures: 0, locks: 1 });
    // The same lock length (started a request apart).
    expect(Math.abs(Date.parse(held.lockout.lockedUntil!) - Date.parse(typed.lockout.lockedUntil!))).toBeLessThan(5_000);

    // Both histories, newest first: the refused right PIN and 3 failures, each by its own method; then the app sign-in
    // of the set-up.
    const historyOf = async (id: string) =>
      ((await api(host, tenant.admin.token, 'GET', `/api/users/${id}/logins`)).body.items as { method: string; success: boolean }[]).map(
        (l) => `${l.method}:${l.success}`,
      );
    expect(await historyOf(badgeHolder!.id)).toEqual([...Array.from({ length: 4 }, () => 'badge:false'), 'password:true']);
    expect(await historyOf(pinTyper!.id)).toEqual([...Array.from({ length: 4 }, () => 'pin:false'), 'password:true']);

    // Once the lock is over, the badge and the right PIN sign in, and the failures are forgotten.
    host.advanceClock(121);
    try {
      const after = await badgeAt(printer, { badge: '1234567890', pin: uma.pin! });
      expect(after.status).toBe(200);
      expect(claimsOf(after.body.access_token as string)).toMatchObject({ sub: badgeHolder!.id, act: { sub: printer.deviceId } });
      expect((await pinAt(printer, pinTyper!.person.username, pia.pin!)).status).toBe(200);
    } finally {
      host.advanceClock(-121);
    }
    expect((await stored(badgeHolder!.id)).lockout).toMatchObject({ failures: 0, locks: 0 });
  });
});

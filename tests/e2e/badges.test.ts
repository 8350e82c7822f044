import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { measureCosmosUsage } from '../../shared/store/request-meter.js';
import { lookupHashes } from '../../shared/tokens/lookup-keys.js';
import { deactivated } from '../../shared/users/activation.js';
import { BADGE_REGISTRATIONS_PER_HOUR } from '../../shared/users/badge-self-registration.js';
import { findBadgeOwner, registerBadge, removeBadge, userBadges, type BadgeDoc } from '../../shared/users/badges.js';
import { grantType as BADGE_GRANT } from '../../shared/oauth/grants/badge.js';
import { readUser, updateUser } from '../../shared/users/users.js';
import { enrolledPrinter, freshTenant, individual, uniqueTag } from '../helpers/fixtures.js';
import { pinSession } from '../helpers/printer.js';
import { api, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * ID badges (docs/data.md#badges, docs/security.md#badges): registered by an admin or by the
 * person at a printer, stored only as keyed hashes, unique in the tenant, listed and removed,
 * found with the same store work whether known or not, moved to the current key after a
 * rotation, exported without numbers and erased with their owner.
 */
const admin: Person = { email: 'ada@badge-store.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const uma: Person = { email: 'uma@badge-store.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-1', pin: '4826' };
const cy: Person = { email: 'cy@badge-store.test', username: 'cy', fullName: 'Cy Nopin', password: 'cy-password-12' };
const ben: Person = { email: 'ben@badge-store.test', username: 'ben', fullName: 'Ben Busy', password: 'ben-password-1', pin: '5937' };

let host: TestHost;
let services: Services;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
});
afterAll(() => host?.close());

/** A number nobody on the host has used: 12 hex digits, as a card reader sends them. */
const newNumber = () => randomBytes(6).toString('hex');

/** The owner's id as findBadgeOwner finds it (the rekey step left to the caller). */
const ownerOf = async (...args: Parameters<typeof findBadgeOwner>) => (await findBadgeOwner(...args))?.userId;

/** Every accounts item of the tenant, as stored: what the database would give away. */
async function storedItems(tenantId: string): Promise<string> {
  const { resources } = await services.store
    .container('accounts')
    .items.query({ query: 'SELECT * FROM c' }, { partitionKey: tenantId })
    .fetchAll();
  return JSON.stringify(resources);
}

describe('badges registered by an admin', () => {
  it('are stored as keyed hashes only, listed and removed by id, never echoing the number, and audited with ids', async () => {
    const tenant = await freshTenant(host, 'badge-admin', admin, [individual(uma)]);
    const [member] = tenant.users;
    const number = newNumber();
    const created = await api(host, tenant.admin.token, 'POST', `/api/users/${member!.id}/badges`, {
      number: ` ${number}\n`,
      label: 'office card',
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body as object).sort()).toEqual(['createdAt', 'id', 'label']);
    expect(created.headers.get('location')).toBe(`/api/users/${member!.id}/badges/${created.body.id}`);

    const hash = lookupHashes(services.config, 'badge', tenant.id, number.toUpperCase())[0]!.hash;
    const stored = await storedItems(tenant.id);
    expect(stored).toContain(hash); // the keyed hash is the item id
    for (const form of [number, number.toUpperCase()]) expect(stored).not.toContain(form);

    const listed = await api(host, tenant.admin.token, 'GET', `/api/users/${member!.id}/badges`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ items: [created.body] });
    expect(JSON.stringify(listed.body)).not.toContain(hash);

    // The owner is found whatever case the reader sends.
    expect(await ownerOf(services, tenant.id, number.toUpperCase())).toBe(member!.id);

    const removed = await api(host, tenant.admin.token, 'DELETE', `/api/users/${member!.id}/badges/${created.body.id}`);
    expect(removed.status).toBe(204);
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${member!.id}/badges/${created.body.id}`)).status).toBe(404);
    expect((await api(host, tenant.admin.token, 'GET', `/api/users/${member!.id}/badges`)).body).toEqual({ items: [] });
    expect(await ownerOf(services, tenant.id, number)).toBeUndefined();

    const audit = await api(host, tenant.admin.token, 'GET', '/api/audit');
    const actions = (audit.body.items as { action: string; targetId?: string; details?: Record<string, unknown> }[]).filter((r) =>
      r.action.startsWith('user.badge-'),
    );
    expect(actions.map((r) => r.action).sort()).toEqual(['user.badge-added', 'user.badge-removed']);
    for (const record of actions) expect(record).toMatchObject({ targetId: member!.id, details: { badgeId: created.body.id } });
    expect(JSON.stringify(audit.body)).not.toContain(number);
    expect(host.logs.join('\n')).not.toContain(number);
  });

  it('a number taken in the tenant is 409 badge-taken whoever holds it; the same number is free in another tenant', async () => {
    const tenant = await freshTenant(host, 'badge-taken', admin, [individual(uma), individual(ben)]);
    const [first, second] = tenant.users;
    const number = newNumber();
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${first!.id}/badges`, { number })).status).toBe(201);
    const bySelf = await api(host, tenant.admin.token, 'POST', `/api/users/${first!.id}/badges`, { number: number.toUpperCase() });
    const byOther = await api(host, tenant.admin.token, 'POST', `/api/users/${second!.id}/badges`, { number });
    for (const answer of [bySelf, byOther]) {
      expect(answer.status).toBe(409);
      expect(answer.body.type).toBe('tag:roger.cloud,2026:problems/badge-taken');
    }
    expect(byOther.body.detail).toBe(bySelf.body.detail);

    const elsewhere = await freshTenant(host, 'badge-elsewhere', admin, [individual(uma)]);
    expect((await api(host, elsewhere.admin.token, 'POST', `/api/users/${elsewhere.users[0]!.id}/badges`, { number })).status).toBe(201);
    expect(await ownerOf(services, tenant.id, number)).toBe(first!.id);
    expect(await ownerOf(services, elsewhere.id, number)).toBe(elsewhere.users[0]!.id);
  });

  it('refuses what is not a badge number (400), an 11th badge (409), and a user of another tenant (404)', async () => {
    const tenant = await freshTenant(host, 'badge-limits', admin, [individual(uma)]);
    const path = `/api/users/${tenant.users[0]!.id}/badges`;
    for (const number of ['12', 'ab-cd-ef', 'x'.repeat(65), '04 A1']) {
      const refused = await api(host, tenant.admin.token, 'POST', path, { number });
      expect(refused.status, number).toBe(400);
      expect(refused.body.type).toBe('tag:roger.cloud,2026:problems/validation-failed');
      expect(JSON.stringify(refused.body)).not.toContain(number.length > 4 ? number : '\u0000');
    }
    for (let i = 0; i < 10; i += 1) expect((await api(host, tenant.admin.token, 'POST', path, { number: newNumber() })).status).toBe(201);
    const eleventh = await api(host, tenant.admin.token, 'POST', path, { number: newNumber() });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body.detail).toContain('at most 10');
    // At the cap a number someone holds answers the same: no more probing which numbers exist.
    const held = newNumber();
    await registerBadge(services, tenant.id, tenant.admin.id, { number: held });
    const probe = await api(host, tenant.admin.token, 'POST', path, { number: held });
    expect([probe.status, probe.body.detail]).toEqual([409, eleventh.body.detail]);

    const other = await freshTenant(host, 'badge-foreign', admin);
    expect((await api(host, other.admin.token, 'POST', path, { number: newNumber() })).status).toBe(404);
    expect((await api(host, other.admin.token, 'GET', path)).status).toBe(404);
    // Only admins: a user may not register a badge for themself outside a printer session.
    expect((await api(host, tenant.users[0]!.token, 'POST', path, { number: newNumber() })).status).toBe(403);
  });

  it('the same number registered for two users at once: exactly one wins', async () => {
    const tenant = await freshTenant(host, 'badge-race', admin, [individual(uma), individual(ben)]);
    for (let round = 0; round < 3; round += 1) {
      const number = newNumber();
      const answers = await Promise.all(
        tenant.users.map((member) => api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      const winner = tenant.users[answers.findIndex((a) => a.status === 201)]!;
      expect(await ownerOf(services, tenant.id, number)).toBe(winner.id);
    }
  });

  it('a deactivated user’s badges can still be listed and removed by an admin', async () => {
    const tenant = await freshTenant(host, 'badge-off', admin, [individual(uma)]);
    const [member] = tenant.users;
    const created = await api(host, tenant.admin.token, 'POST', `/api/users/${member!.id}/badges`, { number: newNumber() });
    const user = (await readUser(services.store, tenant.id, member!.id))!;
    await updateUser(services.store, user, (current) => deactivated(current, services.now()));
    const listed = await api(host, tenant.admin.token, 'GET', `/api/users/${member!.id}/badges`);
    expect(listed.body.items).toHaveLength(1);
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${member!.id}/badges/${created.body.id}`)).status).toBe(204);
  });
});

describe('badges registered at a printer', () => {
  /** A tenant with badges on, Uma (PIN) and Cy (no PIN), a connected printer, and Uma's PIN session there. */
  async function atPrinter(prefix: string, policy: Record<string, unknown> = {}) {
    const tenant = await freshTenant(host, prefix, admin, [individual(uma), individual(cy)], { badgeSignIn: 'badge', ...policy });
    const [member, nopin] = tenant.users;
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Lobby MFP');
    const session = await pinSession(host, printer, member!.person.username, uma.pin!);
    const register = (body: Record<string, unknown>, token = session) => api(host, token, 'POST', '/api/me/badges', body);
    return { tenant, member: member!, nopin: nopin!, printer, session, register };
  }

  it('with the session token and the person’s PIN, the badge is the session’s person’s, audited with ids; a user token or a device token cannot', async () => {
    const { tenant, member, printer, register } = await atPrinter('badge-printer');
    const number = newNumber();
    const registered = await register({ number, label: 'tapped', pin: uma.pin });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ label: 'tapped' });
    expect((await findBadgeOwner(services, tenant.id, number))?.userId).toBe(member.id);
    expect((await api(host, tenant.admin.token, 'GET', `/api/users/${member.id}/badges`)).body.items).toEqual([registered.body]);
    const audit = await api(host, tenant.admin.token, 'GET', '/api/audit');
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        action: 'user.badge-added',
        actorId: member.id,
        targetId: member.id,
        details: { badgeId: registered.body.id, deviceId: printer.deviceId },
      }),
    );
    expect(JSON.stringify(audit.body)).not.toMatch(new RegExp(number, 'i'));

    expect((await register({ number, pin: uma.pin })).body.type).toBe('tag:roger.cloud,2026:problems/badge-taken');
    expect((await register({ number: newNumber(), pin: uma.pin }, member.token)).status).toBe(403);
    expect((await register({ number: newNumber(), pin: uma.pin }, printer.access)).status).toBe(403);
  });

  it('a session left open is not enough: no PIN or a wrong one (counted toward lockout) registers nothing; without a PIN of their own a person asks an admin', async () => {
    const { tenant, member, nopin, printer, register } = await atPrinter('badge-left-open', { lockoutThreshold: 3 });
    const number = newNumber();
    expect((await register({ number })).status).toBe(400);
    const wrong = await register({ number, pin: '0000' });
    expect(wrong.status).toBe(403);
    expect((await readUser(services.store, tenant.id, member.id))?.lockout.failures).toBe(1);
    const logins = await api(host, tenant.admin.token, 'GET', `/api/users/${member.id}/logins`);
    expect(logins.body.items[0]).toMatchObject({ method: 'pin', success: false });
    expect(await ownerOf(services, tenant.id, number)).toBeUndefined();

    // Cy has no PIN: an admin registers her badge, she signs in with it, and at the printer is sent to an admin.
    const hers = newNumber();
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${nopin.id}/badges`, { number: hers })).status).toBe(201);
    const signedIn = await tokenRequest(host, { grant_type: BADGE_GRANT, client_id: 'roger-emb', badge: hers }, printer.access);
    expect(signedIn.status).toBe(200);
    const refused = await register({ number: newNumber(), pin: '1234' }, signedIn.body.access_token as string);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/ask an admin/);
  });

  it('refused while badge sign-in is off, and once the session’s printer is disconnected', async () => {
    const { tenant, printer, register } = await atPrinter('badge-off-gone');
    expect((await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { badgeSignIn: 'off' } })).status).toBe(200);
    const off = await register({ number: newNumber(), pin: uma.pin });
    expect(off.status).toBe(403);
    expect(off.body.detail).toMatch(/badge sign-in is off/);
    expect((await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { badgeSignIn: 'badge' } })).status).toBe(200);
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    const gone = await register({ number: newNumber(), pin: uma.pin });
    expect(gone.status).toBe(403);
    expect(gone.body.detail).toMatch(/no longer connected/);
  });

  it('badge-taken answers count as failed sign-ins at the printer: past its limit, 429 there, for registrations and sign-ins alike', async () => {
    const { tenant, member, printer, register } = await atPrinter('badge-probe', { printerFailedSignInLimit: 5 });
    const held = [0, 1, 2, 3, 4].map(() => newNumber());
    for (const number of held)
      expect((await api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number })).status).toBe(201);
    for (const number of held) expect((await register({ number, pin: uma.pin })).status).toBe(409);
    expect((await register({ number: newNumber(), pin: uma.pin })).status).toBe(429);
    const pinThere = await tokenRequest(
      host,
      { grant_type: 'password', client_id: 'roger-emb', username: member.person.username, password: uma.pin!, scope: 'jobs:submit' },
      printer.access,
    );
    expect(pinThere.status).toBe(429);
  });

  it('at most 10 registrations a person an hour, whatever their outcome (the admin route is not limited)', async () => {
    const { tenant, member, register } = await atPrinter('badge-hourly', { printerFailedSignInLimit: 1000 });
    const held = newNumber();
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number: held })).status).toBe(201);
    for (let i = 0; i < BADGE_REGISTRATIONS_PER_HOUR.limit; i++) expect((await register({ number: held, pin: uma.pin })).status).toBe(409);
    expect((await register({ number: newNumber(), pin: uma.pin })).status).toBe(429);
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number: held })).status).toBe(409);
    expect((await api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number: newNumber() })).status).toBe(201);
  });
});

describe('findBadgeOwner', () => {
  it('an unknown badge costs the store what a known one does: one point read per key', async () => {
    const tenant = await freshTenant(host, 'badge-cost', admin, [individual(uma)]);
    const owner = tenant.users[0]!.id;
    const keys = [0, 1].map(() => ({ kid: `k${uniqueTag()}`, key: randomBytes(32).toString('base64') }));
    for (const keyCount of [1, 2]) {
      const where = { ...services, config: { ...services.config, lookupKeys: { keys: keys.slice(0, keyCount) } } };
      const number = newNumber();
      await registerBadge(where, tenant.id, owner, { number });
      const known = await measureCosmosUsage(() => ownerOf(where, tenant.id, number));
      const unknown = await measureCosmosUsage(() => ownerOf(where, tenant.id, newNumber()));
      const malformed = await measureCosmosUsage(() => ownerOf(where, tenant.id, '??'));
      expect([known.result, unknown.result, malformed.result]).toEqual([owner, undefined, undefined]);
      expect([known.usage.requests, unknown.usage.requests, malformed.usage.requests]).toEqual([keyCount, keyCount, keyCount]);
      expect(unknown.usage.bytesWritten).toBe(known.usage.bytesWritten);
    }
  });

  it('after a rotation, a badge found under the old key costs what an unknown one does, and moves to the current key only by rekey (one batch); a retired key’s badges are not found', async () => {
    const tenant = await freshTenant(host, 'badge-rotate', admin, [individual(uma)]);
    const [member] = tenant.users;
    const newLookupKey = () => ({ kid: `k${uniqueTag()}`, key: randomBytes(32).toString('base64') });
    const [oldKey, newKey] = [newLookupKey(), newLookupKey()];
    const withKeys = (...keys: { kid: string; key: string }[]) => ({ ...services, config: { ...services.config, lookupKeys: { keys } } });
    const [used, unused] = [newNumber(), newNumber()];
    for (const number of [used, unused]) await registerBadge(withKeys(oldKey), tenant.id, member!.id, { number });

    // Promoted: the new key hashes first, the old one is still tried. Finding writes nothing, so a
    // known badge costs what an unknown one does (no oracle during a rotation).
    const promoted = withKeys(newKey, oldKey);
    const hit = await measureCosmosUsage(() => findBadgeOwner(promoted, tenant.id, used));
    const miss = await measureCosmosUsage(() => findBadgeOwner(promoted, tenant.id, newNumber()));
    expect(hit.result?.userId).toBe(member!.id);
    expect([hit.usage.requests, miss.usage.requests]).toEqual([2, 2]);
    expect([hit.usage.bytesWritten, miss.usage.bytesWritten]).toEqual([0, 0]);
    // The caller's step after a success: one transactional batch (delete the old item, create the new).
    const moved = await measureCosmosUsage(() => hit.result!.rekey());
    expect(moved.usage.requests).toBe(1);
    const kids = (await userBadges(services.store, tenant.id, member!.id)).map((b: BadgeDoc) => b.kid).sort();
    expect(kids).toEqual([newKey.kid, oldKey.kid].sort());
    // Under the old key, a number is taken for everyone even before it moved.
    await expect(registerBadge(promoted, tenant.id, member!.id, { number: unused })).rejects.toMatchObject({ code: 'badge-taken' });

    // Retired: the moved badge is still found in one read; the one never used since is not.
    const retired = withKeys(newKey);
    expect(await ownerOf(retired, tenant.id, used)).toBe(member!.id);
    expect(await ownerOf(retired, tenant.id, unused)).toBeUndefined();
  });

  it('a badge removed between its look-up and its move is not brought back under the new key', async () => {
    const tenant = await freshTenant(host, 'badge-resurrect', admin, [individual(uma)]);
    const [member] = tenant.users;
    const newLookupKey = () => ({ kid: `k${uniqueTag()}`, key: randomBytes(32).toString('base64') });
    const [oldKey, newKey] = [newLookupKey(), newLookupKey()];
    const withKeys = (...keys: { kid: string; key: string }[]) => ({ ...services, config: { ...services.config, lookupKeys: { keys } } });
    const number = newNumber();
    const badge = await registerBadge(withKeys(oldKey), tenant.id, member!.id, { number });
    const promoted = withKeys(newKey, oldKey);
    const found = await findBadgeOwner(promoted, tenant.id, number);
    await removeBadge(services.store, tenant.id, member!.id, badge.badgeId); // an admin's removal, or the erasure
    await found!.rekey();
    expect(await userBadges(services.store, tenant.id, member!.id)).toEqual([]);
    expect(await findBadgeOwner(promoted, tenant.id, number)).toBeUndefined();
  });
});

describe('export and erasure', () => {
  it('the export lists badges by id, label and dates only; erasure deletes every one and counts them', async () => {
    const tenant = await freshTenant(host, 'badge-rights', admin, [individual(uma)]);
    const [member] = tenant.users;
    const numbers = [newNumber(), newNumber()];
    const created = [];
    for (const number of numbers) {
      created.push((await api(host, tenant.admin.token, 'POST', `/api/users/${member!.id}/badges`, { number, label: 'card' })).body);
    }
    const exported = await api(host, member!.token, 'GET', `/api/users/${member!.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.badges).toEqual(expect.arrayContaining(created));
    expect(exported.body.badges).toHaveLength(2);
    const text = JSON.stringify(exported.body);
    for (const number of numbers) {
      expect(text).not.toContain(number);
      expect(text).not.toContain(lookupHashes(services.config, 'badge', tenant.id, number.toUpperCase())[0]!.hash);
    }

    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${member!.id}`)).status).toBe(204);
    expect(await userBadges(services.store, tenant.id, member!.id)).toEqual([]);
    for (const number of numbers) expect(await ownerOf(services, tenant.id, number)).toBeUndefined();
    const audit = await api(host, tenant.admin.token, 'GET', '/api/audit');
    const erased = (audit.body.items as { action: string; details?: Record<string, unknown> }[]).find((r) => r.action === 'user.erased');
    expect(erased?.details?.badges).toBe(2);
  });

  it('a registration racing the erasure leaves no badge behind', async () => {
    const tenant = await freshTenant(host, 'badge-erase-race', admin, [individual(uma), individual(ben)]);
    for (const member of tenant.users) {
      const numbers = [newNumber(), newNumber(), newNumber()];
      const outcomes = await Promise.allSettled([
        ...numbers.map((number) => registerBadge(services, tenant.id, member.id, { number })),
        api(host, tenant.admin.token, 'DELETE', `/api/users/${member.id}`),
      ]);
      expect(outcomes.at(-1)).toMatchObject({ status: 'fulfilled', value: { status: 204 } });
      expect(await userBadges(services.store, tenant.id, member.id)).toEqual([]);
      for (const number of numbers) expect(await ownerOf(services, tenant.id, number)).toBeUndefined();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, type ScimCaller } from '../../shared/scim/resources.js';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, patchScimUser, replaceScimUser } from '../../shared/scim/users.js';
import type { Services } from '../../shared/services.js';
import { measureCosmosUsage } from '../../shared/store/request-meter.js';
import { findUserByLoginName, readUser } from '../../shared/users/users.js';
import { freshTenant, individual, uniqueTag, type FreshTenant } from '../helpers/fixtures.js';
import { api, tokenRequest, type Person } from '../helpers/roger.js';
import { collectingLog, patchRequest as patch, scimTestHost, scimToken } from '../helpers/scim.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * SCIM Users over the real Cosmos stand-in (shared/scim/users.ts, docs/provisioning.md): the
 * domain functions the SCIM routes call, each rule of the user model, and what each costs.
 */
const admin: Person = { email: 'ada@scim-users.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const member: Person = { email: 'uma@scim-users.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const lines: string[] = [];
const log = collectingLog(lines);

/** A user as Entra's provisioning service sends it (its documented request, our own values). */
function entraUser(tag = uniqueTag()) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    externalId: randomUUID(),
    userName: `megan.b-${tag}@contoso.test`,
    active: true,
    displayName: 'Megan Bowen',
    title: 'CEO',
    emails: [{ primary: true, type: 'work', value: `megan-${tag}@contoso.test` }],
    phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }],
    addresses: [{ type: 'work', locality: 'Redmond' }],
    preferredLanguage: 'en-US',
    name: { formatted: 'Megan Bowen', familyName: 'Bowen', givenName: 'Megan' },
    [ENTERPRISE_USER_SCHEMA]: { department: 'Sales', employeeNumber: '42', manager: { value: 'someone' } },
  };
}

describe('SCIM users', () => {
  let host: TestHost;
  let services: Services;
  scimTestHost((started) => ({ host, services } = started));

  async function world(): Promise<{ t: FreshTenant; caller: ScimCaller }> {
    const t = await freshTenant(host, 'scim-users', individual(admin), [individual(member)]);
    return { t, caller: (await scimToken(host, t)).caller };
  }
  const auditActions = async (t: FreshTenant) =>
    (
      (await api(host, t.admin.token, 'GET', '/api/audit?limit=100')).body.items as { action: string; actorId: string; targetId?: string }[]
    ).reverse();
  const byUserName = (caller: ScimCaller, userName: string) => listScimUsers(services, caller, { filter: `userName eq "${userName}"` });

  it('creates a user as Entra sends it: the kept attributes shown, the rest dropped, role user, audited by the token', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const created = await createScimUser(services, caller, body, log);
    expect(created).toEqual({
      schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      externalId: body.externalId,
      userName: body.userName,
      name: body.name,
      displayName: 'Megan Bowen',
      emails: [{ value: body.emails[0]!.value, type: 'work', primary: true }],
      active: true,
      [ENTERPRISE_USER_SCHEMA]: { department: 'Sales', employeeNumber: '42' },
      meta: {
        resourceType: 'User',
        created: expect.any(String),
        lastModified: expect.any(String),
        version: expect.stringMatching(/^W\/".+"$/),
      },
    });
    expect(await getScimUser(services, caller, created.id)).toEqual(created);
    const stored = (await readUser(services.store, t.id, created.id))!;
    expect(stored).toMatchObject({
      role: 'user',
      email: body.emails[0]!.value,
      fullName: 'Megan Bowen',
      username: body.userName.split('@')[0],
    });
    expect(stored.scim).toMatchObject({ userName: body.userName, externalId: body.externalId, createdBy: caller.tokenId });
    // The dropped values as JSON strings: bare, "555" or "CEO" turn up in random ids and hashes now and then.
    expect(JSON.stringify(stored)).not.toMatch(/"CEO"|"Redmond"|"\+1 555 0100"|"en-US"|"someone"/);
    expect(await auditActions(t)).toContainEqual(
      expect.objectContaining({ action: 'scim.user-created', actorId: `scim-token:${caller.tokenId}`, targetId: created.id }),
    );
  });

  it('refuses a body without the User schema, without userName, or with a value no name may hold (400, nothing written)', async () => {
    const { caller } = await world();
    const good = entraUser();
    const refusals: [unknown, string][] = [
      [{ ...good, schemas: [ENTERPRISE_USER_SCHEMA] }, 'invalidSyntax'],
      ['not an object', 'invalidSyntax'],
      [{ ...good, userName: undefined }, 'invalidValue'],
      [{ ...good, userName: '  ' }, 'invalidValue'],
      [{ ...good, userName: 'a/b@contoso.test' }, 'invalidValue'],
      // Fullwidth solidus, number sign, question mark: NFKC makes them / # ? in the look-up id.
      [{ ...good, userName: 'a\uff0fb@contoso.test' }, 'invalidValue'],
      [{ ...good, userName: 'a\uff03b@contoso.test' }, 'invalidValue'],
      [{ ...good, emails: [{ type: 'work', value: 'a\uff1fb@contoso.test' }] }, 'invalidValue'],
      [{ ...good, userName: `${'x'.repeat(250)}@c.test` }, 'invalidValue'],
      [{ ...good, displayName: 'tab\there' }, 'invalidValue'],
      [{ ...good, displayName: 'x'.repeat(257) }, 'invalidValue'],
      [{ ...good, active: 'maybe' }, 'invalidValue'],
      [{ ...good, emails: [{ type: 'work', value: 'not-an-address' }] }, 'invalidValue'],
      [{ ...good, name: 'Megan' }, 'invalidValue'],
    ];
    for (const [body, scimType] of refusals) {
      await expect(createScimUser(services, caller, body, log)).rejects.toMatchObject({ status: 400, scimType });
    }
    expect((await byUserName(caller, good.userName)).totalResults).toBe(0);
    expect((await createScimUser(services, caller, good, log)).userName).toBe(good.userName);
  });

  it('active "False" (any case) creates a deactivated user; a userName that is a handle is the username; no email → a placeholder never shown', async () => {
    const { t, caller } = await world();
    const off = await createScimUser(services, caller, { ...entraUser(), active: 'False' }, log);
    expect(off.active).toBe(false);
    expect((await readUser(services.store, t.id, off.id))!.deactivatedAt).toBeDefined();
    const handle = `megan-${uniqueTag()}`;
    const bare = await createScimUser(services, caller, { schemas: [USER_SCHEMA], userName: handle, active: 'TRUE' }, log);
    expect(bare).toMatchObject({ userName: handle, displayName: handle, active: true });
    expect(bare).not.toHaveProperty('emails');
    expect(await readUser(services.store, t.id, bare.id)).toMatchObject({ username: handle, email: `${bare.id}@scim.invalid` });
  });

  it('409 uniqueness on a userName, an email or an externalId another user holds; the claims of a refused create are released', async () => {
    const { t, caller } = await world();
    const first = entraUser();
    await createScimUser(services, caller, first, log);
    const fresh = entraUser();
    const taken = [
      { ...fresh, userName: first.userName.toUpperCase() },
      { ...fresh, emails: [{ type: 'Work', value: first.emails[0]!.value }] },
      { ...fresh, externalId: first.externalId.toUpperCase() },
      { ...fresh, userName: t.users[0]!.person.email }, // an admin-created user's email
      { ...fresh, userName: t.users[0]!.person.username }, // and username
    ];
    for (const body of taken) {
      await expect(createScimUser(services, caller, body, log)).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    }
    // Each refused create claimed some of fresh's names first: all were released.
    const created = await createScimUser(services, caller, fresh, log);
    expect(created.userName).toBe(fresh.userName);
  });

  it('filters: userName, externalId, the work email, emails.value and id, attribute names and values ignoring case; one user or none', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const email = body.emails[0]!.value;
    for (const filter of [
      `userName eq "${body.userName.toUpperCase()}"`,
      `USERNAME EQ "${body.userName}"`,
      `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "${body.userName}"`,
      `externalId eq "${body.externalId.toUpperCase()}"`,
      `emails[type eq "work"].value eq "${email}"`,
      `emails.value eq "${email.toUpperCase()}"`,
      `id eq "${id}"`,
    ]) {
      const found = await listScimUsers(services, caller, { filter });
      expect(found, filter).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1, Resources: [{ id }] });
    }
    // The username is a name of the user, but not its SCIM userName: no match, as Entra expects.
    const username = (await readUser(services.store, t.id, id))!.username;
    expect((await byUserName(caller, username)).totalResults).toBe(0);
    for (const filter of [
      `userName eq "nobody-${uniqueTag()}@contoso.test"`,
      'externalId eq "x"',
      'id eq "a/b"',
      `emails.value eq "${body.userName}"`,
    ]) {
      expect(await listScimUsers(services, caller, { filter }), filter).toEqual({
        totalResults: 0,
        startIndex: 1,
        itemsPerPage: 0,
        Resources: [],
      });
    }
    // A user nobody provisioned answers to a filter on its email as userName: Entra's match before create.
    const adminMade = await byUserName(caller, t.users[0]!.person.email);
    expect(adminMade.Resources).toMatchObject([{ id: t.users[0]!.id, userName: t.users[0]!.person.email, active: true }]);
    expect(adminMade.Resources[0]).not.toHaveProperty('externalId');
  });

  it('refuses every other filter with 400 invalidFilter', async () => {
    const { caller } = await world();
    for (const filter of [
      'userName ne "x"',
      'userName sw "x"',
      'userName pr',
      'displayName eq "x"',
      'title eq "x"',
      'userName eq "x" and externalId eq "y"',
      'userName eq "x" or userName eq "y"',
      'not (userName eq "x")',
      'emails[type eq "home"].value eq "x"',
      'active eq true',
      'userName eq',
      `userName eq "${'x'.repeat(520)}"`,
    ]) {
      await expect(listScimUsers(services, caller, { filter }), filter).rejects.toMatchObject({ status: 400, scimType: 'invalidFilter' });
    }
  });

  it('a filtered GET costs two point reads, a miss one; a PATCH of the display name costs three requests (read, write, audit)', async () => {
    const { caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const hit = await measureCosmosUsage(() => byUserName(caller, body.userName));
    expect(hit.result.totalResults).toBe(1);
    expect(hit.usage.requests).toBe(2);
    const external = await measureCosmosUsage(() => listScimUsers(services, caller, { filter: `externalId eq "${body.externalId}"` }));
    expect(external.usage.requests).toBe(2);
    const miss = await measureCosmosUsage(() => byUserName(caller, `nobody-${uniqueTag()}@contoso.test`));
    expect(miss.usage.requests).toBe(1);
    const patched = await measureCosmosUsage(() =>
      patchScimUser(services, caller, id, patch({ op: 'Replace', path: 'displayName', value: 'Megan B.' }), log),
    );
    expect(patched.result.displayName).toBe('Megan B.');
    expect(patched.usage.requests).toBe(3);
  });

  it('tenants are apart: another tenant’s user is 404 to every call, and no filter returns them', async () => {
    const [a, b] = await Promise.all([world(), world()]);
    const body = entraUser();
    const theirs = await createScimUser(services, b.caller, body, log);
    await expect(getScimUser(services, a.caller, theirs.id)).rejects.toMatchObject({ status: 404 });
    await expect(replaceScimUser(services, a.caller, theirs.id, entraUser(), log)).rejects.toMatchObject({ status: 404 });
    await expect(
      patchScimUser(services, a.caller, theirs.id, patch({ op: 'replace', path: 'active', value: false }), log),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(deleteScimUser(services, a.caller, theirs.id, log)).rejects.toMatchObject({ status: 404 });
    await expect(getScimUser(services, a.caller, b.t.users[0]!.id)).rejects.toMatchObject({ status: 404 });
    for (const filter of [
      `userName eq "${body.userName}"`,
      `externalId eq "${body.externalId}"`,
      `emails.value eq "${body.emails[0]!.value}"`,
      `id eq "${theirs.id}"`,
      `userName eq "${b.t.users[0]!.person.email}"`,
    ]) {
      expect((await listScimUsers(services, a.caller, { filter })).totalResults, filter).toBe(0);
    }
    // Their names do not even make A's 409: names are per tenant.
    expect((await createScimUser(services, a.caller, body, log)).userName).toBe(body.userName);
    expect(await getScimUser(services, b.caller, theirs.id)).toMatchObject({ active: true, userName: body.userName });
    for (const id of ['', 'admin-roster', `login:${b.t.users[0]!.person.username}`, '../x', 'x'.repeat(300)]) {
      await expect(getScimUser(services, a.caller, id)).rejects.toMatchObject({ status: 404 });
    }
  });

  it('PATCH as Entra sends it: Replace in capitals, no path with a value object, active "False" then "True"; deactivation empties the refresh families', async () => {
    const { t, caller } = await world();
    const uma = t.users[0]!; // signed in from the app: one refresh family
    expect((await readUser(services.store, t.id, uma.id))!.refreshFamilies).toHaveLength(1);
    const off = await patchScimUser(services, caller, uma.id, patch({ op: 'Replace', value: { active: 'False' } }), log);
    expect(off.active).toBe(false);
    const stored = (await readUser(services.store, t.id, uma.id))!;
    expect(stored.deactivatedAt).toBeDefined();
    expect(stored.refreshFamilies).toEqual([]);
    expect(stored.scim).toMatchObject({ userName: uma.person.email, createdBy: caller.tokenId });
    expect(
      (await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: uma.refresh })).body.error,
    ).toBe('invalid_grant');

    const renamed = await patchScimUser(
      services,
      caller,
      uma.id,
      patch(
        { op: 'Add', value: { 'name.givenName': 'Uma', 'name.familyName': 'Ursine', [`${ENTERPRISE_USER_SCHEMA}:department`]: 'Ops' } },
        { op: 'Replace', path: 'active', value: 'True' },
      ),
      log,
    );
    expect(renamed).toMatchObject({
      active: true,
      name: { givenName: 'Uma', familyName: 'Ursine' },
      [ENTERPRISE_USER_SCHEMA]: { department: 'Ops' },
    });
    expect((await readUser(services.store, t.id, uma.id))!.deactivatedAt).toBeUndefined();
    const actions = (await auditActions(t)).filter((r) => r.targetId === uma.id).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['scim.user-changed', 'scim.user-deactivated', 'scim.user-reactivated']));
    await expect(patchScimUser(services, caller, uma.id, patch({ op: 'replace', path: 'active', value: 'no' }), log)).rejects.toMatchObject(
      {
        status: 400,
        scimType: 'invalidValue',
      },
    );
    await expect(patchScimUser(services, caller, uma.id, patch({ op: 'replace', path: 'id', value: 'x' }), log)).rejects.toMatchObject({
      status: 400,
      scimType: 'mutability',
    });
  });

  it('renames: the new userName and email are claimed before the write, the old released after; a taken new name is 409 and the old ones still work', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const other = await createScimUser(services, caller, entraUser(), log);
    const next = `megan.bowen-${uniqueTag()}@contoso.test`;

    await expect(
      patchScimUser(services, caller, id, patch({ op: 'replace', path: 'userName', value: other.userName }), log),
    ).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    await expect(
      patchScimUser(
        services,
        caller,
        id,
        patch(
          { op: 'replace', path: 'userName', value: next },
          { op: 'replace', path: 'emails[type eq "work"].value', value: t.users[0]!.person.email },
        ),
        log,
      ),
    ).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect((await byUserName(caller, body.userName)).Resources).toMatchObject([{ id }]);
    expect((await byUserName(caller, next)).totalResults).toBe(0); // its claim was released with the refusal

    const newEmail = `megan.new-${uniqueTag()}@contoso.test`;
    await patchScimUser(
      services,
      caller,
      id,
      patch({ op: 'Replace', value: { userName: next, 'emails[type eq "work"].value': newEmail } }),
      log,
    );
    expect((await byUserName(caller, next)).Resources).toMatchObject([{ id, userName: next, emails: [{ value: newEmail }] }]);
    expect((await byUserName(caller, body.userName)).totalResults).toBe(0);
    expect((await listScimUsers(services, caller, { filter: `emails.value eq "${body.emails[0]!.value}"` })).totalResults).toBe(0);
    // The old names are free for someone else.
    const reuse = await createScimUser(services, caller, { ...entraUser(), userName: body.userName, emails: body.emails }, log);
    expect(reuse.userName).toBe(body.userName);
    expect((await readUser(services.store, t.id, id))!.email).toBe(newEmail);
  });

  it('PUT replaces: attributes left out are cleared (externalId released), active left out stays', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, { ...body, active: false }, log);
    const replaced = await replaceScimUser(
      services,
      caller,
      id,
      { schemas: [USER_SCHEMA], userName: body.userName, emails: body.emails },
      log,
    );
    expect(replaced).toMatchObject({ userName: body.userName, displayName: body.userName, active: false });
    expect(replaced).not.toHaveProperty('name');
    expect(replaced).not.toHaveProperty('externalId');
    expect(replaced.schemas).toEqual([USER_SCHEMA]);
    expect((await readUser(services.store, t.id, id))!.fullName).toBe(body.userName);
    expect((await listScimUsers(services, caller, { filter: `externalId eq "${body.externalId}"` })).totalResults).toBe(0);
    expect((await createScimUser(services, caller, { ...entraUser(), externalId: body.externalId }, log)).externalId).toBe(body.externalId);
  });

  it('fullName follows displayName, else name.formatted, else given and family name, else the userName', async () => {
    const { t, caller } = await world();
    const base = { schemas: [USER_SCHEMA] };
    const cases: [Record<string, unknown>, string][] = [
      [{ displayName: 'D', name: { formatted: 'F', givenName: 'G', familyName: 'H' } }, 'D'],
      [{ name: { formatted: 'F', givenName: 'G', familyName: 'H' } }, 'F'],
      [{ name: { givenName: 'G', familyName: 'H' } }, 'G H'],
      [{ name: { familyName: 'H' } }, 'H'],
    ];
    for (const [attributes, fullName] of cases) {
      const { id } = await createScimUser(services, caller, { ...base, ...attributes, userName: `n-${uniqueTag()}@c.test` }, log);
      expect((await readUser(services.store, t.id, id))!.fullName).toBe(fullName);
    }
    const userName = `n-${uniqueTag()}@c.test`;
    const { id } = await createScimUser(services, caller, { ...base, userName }, log);
    expect((await readUser(services.store, t.id, id))!).toMatchObject({ fullName: userName, email: userName });
  });

  it('deactivating the tenant’s last admin is allowed and logged by ids', async () => {
    const { t, caller } = await world();
    lines.length = 0;
    await patchScimUser(services, caller, t.admin.id, patch({ op: 'replace', path: 'active', value: false }), log);
    expect(lines).toContainEqual(`warn scim-last-admin-deactivated tenantId=${t.id} userId=${t.admin.id}`);
    expect((await readUser(services.store, t.id, t.admin.id))!).toMatchObject({ role: 'admin', deactivatedAt: expect.any(String) });
  });

  it('DELETE erases the user, audited as user.erased by the token; the same id again is 404; the last admin is 409', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    await deleteScimUser(services, caller, id, log);
    expect(await readUser(services.store, t.id, id)).toBeUndefined();
    await expect(getScimUser(services, caller, id)).rejects.toMatchObject({ status: 404 });
    await expect(deleteScimUser(services, caller, id, log)).rejects.toMatchObject({ status: 404 });
    expect(await auditActions(t)).toContainEqual(
      expect.objectContaining({ action: 'user.erased', actorId: `scim-token:${caller.tokenId}` }),
    );
    // Every name it held is free again.
    expect((await createScimUser(services, caller, body, log)).userName).toBe(body.userName);

    await expect(deleteScimUser(services, caller, t.admin.id, log)).rejects.toMatchObject({
      status: 409,
      detail: expect.stringContaining('last admin'),
    });
    expect(await readUser(services.store, t.id, t.admin.id)).toBeDefined();
  });

  it('a filter on a name holding a fullwidth / or # answers nobody, without a read', async () => {
    const { caller } = await world();
    for (const filter of ['userName eq "a\uff0fb@contoso.test"', 'emails.value eq "a\uff03b@contoso.test"']) {
      const { result, usage } = await measureCosmosUsage(() => listScimUsers(services, caller, { filter }));
      expect(result.totalResults, filter).toBe(0);
      expect(usage.requests, filter).toBe(0);
    }
  });

  it('the email is the primary work address, else a work one, else the primary one, else the first', async () => {
    const { t, caller } = await world();
    const tag = uniqueTag();
    const cases: [{ value: string; type?: string; primary?: boolean }[], string][] = [
      [
        [
          { value: `old-${tag}@contoso.test`, type: 'work' },
          { value: `new-${tag}@contoso.test`, type: 'work', primary: true },
        ],
        `new-${tag}@contoso.test`,
      ],
      [
        [
          { value: `home-${tag}@contoso.test`, type: 'home', primary: true },
          { value: `work-${tag}@contoso.test`, type: 'Work' },
        ],
        `work-${tag}@contoso.test`,
      ],
      [
        [
          { value: `other-${tag}@contoso.test`, type: 'other' },
          { value: `primary-${tag}@contoso.test`, type: 'home', primary: true },
        ],
        `primary-${tag}@contoso.test`,
      ],
      [[{ value: `first-${tag}@contoso.test` }, { value: `second-${tag}@contoso.test`, type: 'home' }], `first-${tag}@contoso.test`],
    ];
    for (const [emails, chosen] of cases) {
      const created = await createScimUser(services, caller, { ...entraUser(), emails }, log);
      expect((await readUser(services.store, t.id, created.id))!.email).toBe(chosen);
    }
    // Okta's way of changing the address: add a new primary work one beside the old.
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const next = `next-${tag}@contoso.test`;
    await patchScimUser(
      services,
      caller,
      id,
      patch({ op: 'add', path: 'emails', value: [{ value: next, type: 'work', primary: true }] }),
      log,
    );
    expect((await readUser(services.store, t.id, id))!.email).toBe(next);
  });

  it('a userName that is neither the email nor the username is a sign-in name: the login-name look-up finds the user by it', async () => {
    const { t, caller } = await world();
    const tag = uniqueTag();
    const upn = `megan.upn-${tag}@contoso.test`;
    const created = await createScimUser(services, caller, { ...entraUser(tag), userName: upn }, log);
    const user = (await readUser(services.store, t.id, created.id))!;
    expect([user.email, user.username]).not.toContain(upn);
    expect((await findUserByLoginName(services.store, t.id, upn))?.id).toBe(created.id);
    expect((await findUserByLoginName(services.store, t.id, upn.toUpperCase()))?.id).toBe(created.id);
    // Renamed, the old userName is nobody's sign-in name.
    const renamed = `megan.next-${tag}@contoso.test`;
    await patchScimUser(services, caller, created.id, patch({ op: 'replace', path: 'userName', value: renamed }), log);
    expect(await findUserByLoginName(services.store, t.id, upn)).toBeUndefined();
    expect((await findUserByLoginName(services.store, t.id, renamed))?.id).toBe(created.id);
  });

  it('PATCH attribute names in any case take effect: path Active false deactivates, a value {"ACTIVE": "True"} reactivates', async () => {
    const { t, caller } = await world();
    const uma = t.users[0]!;
    expect((await patchScimUser(services, caller, uma.id, patch({ op: 'Replace', path: 'Active', value: false }), log)).active).toBe(false);
    expect((await readUser(services.store, t.id, uma.id))!.deactivatedAt).toBeDefined();
    const back = await patchScimUser(
      services,
      caller,
      uma.id,
      patch({ op: 'Replace', value: { ACTIVE: 'True', DisplayName: 'Uma U' } }),
      log,
    );
    expect(back).toMatchObject({ active: true, displayName: 'Uma U' });
    expect((await readUser(services.store, t.id, uma.id))!.deactivatedAt).toBeUndefined();
  });

  it('a listed user is the same as read by id (the listing reads only the fields the view shows)', async () => {
    const { caller } = await world();
    await createScimUser(services, caller, { ...entraUser(), active: false }, log);
    const listed = await listScimUsers(services, caller, {});
    expect(listed.Resources.length).toBeGreaterThanOrEqual(3);
    for (const resource of listed.Resources) expect(resource).toEqual(await getScimUser(services, caller, resource.id));
  });

  it('lists the tenant’s users a page at a time: startIndex from 1, count up to 100, count 0 gives only the total', async () => {
    const { t, caller } = await world();
    for (let i = 0; i < 3; i++) await createScimUser(services, caller, entraUser(), log);
    const all = await listScimUsers(services, caller, {});
    expect(all.totalResults).toBe(5); // the admin, the member and three
    expect(all.Resources).toHaveLength(5);
    expect(all.Resources.map((r) => r.id)).toContain(t.admin.id);
    const pages = [
      await listScimUsers(services, caller, { startIndex: 1, count: 2 }),
      await listScimUsers(services, caller, { startIndex: 3, count: 2 }),
      await listScimUsers(services, caller, { startIndex: 5, count: 2 }),
    ];
    expect(pages.map((p) => [p.startIndex, p.itemsPerPage])).toEqual([
      [1, 2],
      [3, 2],
      [5, 1],
    ]);
    expect(pages.flatMap((p) => p.Resources.map((r) => r.id))).toEqual(all.Resources.map((r) => r.id));
    expect(await listScimUsers(services, caller, { count: 0 })).toEqual({ totalResults: 5, startIndex: 1, itemsPerPage: 0, Resources: [] });
    expect(await listScimUsers(services, caller, { startIndex: 9 })).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect((await listScimUsers(services, caller, { startIndex: -4, count: 500 })).startIndex).toBe(1);
  });
});

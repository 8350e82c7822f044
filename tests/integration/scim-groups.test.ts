import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  listScimGroups,
  MAX_GROUP_MEMBERS,
  patchScimGroup,
  replaceScimGroup,
} from '../../shared/scim/groups.js';
import { GROUP_SCHEMA, USER_SCHEMA, type ScimCaller } from '../../shared/scim/resources.js';
import { createScimUser } from '../../shared/scim/users.js';
import type { Services } from '../../shared/services.js';
import { measureCosmosUsage } from '../../shared/store/request-meter.js';
import { eraseUser } from '../../shared/users/data-rights.js';
import { readUser } from '../../shared/users/users.js';
import { freshTenant, individual, uniqueTag, type FreshTenant } from '../helpers/fixtures.js';
import { api, type Person } from '../helpers/roger.js';
import { collectingLog, nameAdminGroup, patchRequest as patch, scimTestHost, scimToken } from '../helpers/scim.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * SCIM Groups over the real Cosmos stand-in (shared/scim/groups.ts): the admin group's members
 * are the tenant's admins, members are users of the tenant only, and tenants stay apart.
 */
const admin: Person = { email: 'ada@scim-groups.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const member: Person = { email: 'uma@scim-groups.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const lines: string[] = [];
const log = collectingLog(lines);

const group = (displayName: string, members: string[] = [], externalId?: string) => ({
  schemas: [GROUP_SCHEMA],
  displayName,
  ...(externalId ? { externalId } : {}),
  members: members.map((value) => ({ value, display: 'someone', $ref: `https://example.test/Users/${value}` })),
});

describe('SCIM groups', () => {
  let host: TestHost;
  let services: Services;
  scimTestHost((started) => ({ host, services } = started));

  /** A tenant whose policy names an admin group, a SCIM token, and two users provisioned over SCIM. */
  async function world(): Promise<{ t: FreshTenant; caller: ScimCaller; adminGroupId: string; users: string[] }> {
    const t = await freshTenant(host, 'scim-groups', individual(admin), [individual(member)]);
    const adminGroupId = await nameAdminGroup(host, t);
    const { caller } = await scimToken(host, t);
    const users: string[] = [];
    for (let i = 0; i < 2; i++) {
      users.push(
        (await createScimUser(services, caller, { schemas: [USER_SCHEMA], userName: `g${i}-${uniqueTag()}@contoso.test` }, log)).id,
      );
    }
    return { t, caller, adminGroupId, users };
  }
  const role = async (t: FreshTenant, userId: string) => (await readUser(services.store, t.id, userId))?.role;

  it('creates, reads, lists and filters groups; members keep only their ids; displayName is unique ignoring case', async () => {
    const { caller, users } = await world();
    const externalId = randomUUID();
    const created = await createScimGroup(services, caller, group('Print users', users, externalId), log);
    expect(created).toEqual({
      schemas: [GROUP_SCHEMA],
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      displayName: 'Print users',
      externalId,
      members: users.map((value) => ({ value })),
      meta: {
        resourceType: 'Group',
        created: expect.any(String),
        lastModified: expect.any(String),
        version: expect.stringMatching(/^W\//),
      },
    });
    expect(await getScimGroup(services, caller, created.id)).toEqual(created);
    const other = await createScimGroup(services, caller, group('Scanners'), log);
    expect((await listScimGroups(services, caller, {})).totalResults).toBe(2);
    for (const filter of ['displayName eq "PRINT USERS"', `externalId eq "${externalId.toUpperCase()}"`, `id eq "${created.id}"`]) {
      expect(
        (await listScimGroups(services, caller, { filter })).Resources.map((g) => g.id),
        filter,
      ).toEqual([created.id]);
    }
    expect((await listScimGroups(services, caller, { filter: 'displayName eq "nobody"' })).totalResults).toBe(0);
    for (const filter of ['displayName co "Print"', 'members eq "x"', 'displayName eq "a" or displayName eq "b"']) {
      await expect(listScimGroups(services, caller, { filter })).rejects.toMatchObject({ status: 400, scimType: 'invalidFilter' });
    }
    await expect(createScimGroup(services, caller, group('print USERS'), log)).rejects.toMatchObject({
      status: 409,
      scimType: 'uniqueness',
    });
    await expect(
      patchScimGroup(services, caller, other.id, patch({ op: 'Replace', value: { displayName: 'Print Users' } }), log),
    ).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect(
      (await patchScimGroup(services, caller, other.id, patch({ op: 'Replace', value: { displayName: 'Scan users' } }), log)).displayName,
    ).toBe('Scan users');
    await expect(createScimGroup(services, caller, { ...group('x'), schemas: [USER_SCHEMA] }, log)).rejects.toMatchObject({
      status: 400,
      scimType: 'invalidSyntax',
    });
    await expect(createScimGroup(services, caller, group(''), log)).rejects.toMatchObject({ status: 400, scimType: 'invalidValue' });
  });

  it('the admin group: members added become admins, removed become users again; a batch of adds in one PATCH; audited by the token', async () => {
    const { t, caller, adminGroupId, users } = await world();
    const [u0, u1] = users as [string, string];
    const admins = await createScimGroup(services, caller, group('Roger admins', [], adminGroupId.toUpperCase()), log);
    await patchScimGroup(services, caller, admins.id, patch({ op: 'Add', path: 'members', value: [{ value: u0 }, { value: u1 }] }), log);
    expect([await role(t, u0), await role(t, u1)]).toEqual(['admin', 'admin']);
    await patchScimGroup(services, caller, admins.id, patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: u0 }] }), log);
    expect([await role(t, u0), await role(t, u1)]).toEqual(['user', 'admin']);
    expect((await getScimGroup(services, caller, admins.id)).members).toEqual([{ value: u1 }]); // Entra's `$ref: null` matched
    // Replace of the members: u1 leaves, u0 joins.
    await patchScimGroup(services, caller, admins.id, patch({ op: 'Replace', path: 'members', value: [{ value: u0 }] }), log);
    expect([await role(t, u0), await role(t, u1)]).toEqual(['admin', 'user']);
    // PUT without members: everyone leaves.
    await replaceScimGroup(services, caller, admins.id, group('Roger admins', [], adminGroupId), log);
    expect(await role(t, u0)).toBe('user');
    // Another group changes nobody's role; the tenant's own admin keeps theirs.
    const other = await createScimGroup(services, caller, group('Everyone', [u0, t.users[0]!.id]), log);
    expect([await role(t, u0), await role(t, t.users[0]!.id), await role(t, t.admin.id)]).toEqual(['user', 'user', 'admin']);
    await deleteScimGroup(services, caller, other.id, log);

    const audit = (await api(host, t.admin.token, 'GET', '/api/audit?limit=100')).body.items as {
      action: string;
      actorId: string;
      details?: object;
    }[];
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'scim.group-changed',
        actorId: `scim-token:${caller.tokenId}`,
        details: { fields: [], membersAdded: 2, membersRemoved: 0 },
      }),
    );
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['scim.group-created', 'scim.group-deleted']));
    // Each role the group changed is on record, by the token.
    const roleChanges = audit.filter((r) => r.action === 'scim.user-changed' && JSON.stringify(r.details) === '{"fields":["role"]}');
    expect(roleChanges.map((r) => [r.actorId, (r as { targetId?: string }).targetId])).toEqual(
      expect.arrayContaining([
        [`scim-token:${caller.tokenId}`, u0],
        [`scim-token:${caller.tokenId}`, u1],
      ]),
    );
    expect(roleChanges).toHaveLength(6); // u0, u1 up; u0 down; u0 up, u1 down; u0 down
  });

  it('deleting the admin group makes its members users; the tenant’s last admin is kept, and that is logged by ids', async () => {
    const { t, caller, adminGroupId, users } = await world();
    const admins = await createScimGroup(services, caller, group('Roger admins', [users[0]!, t.admin.id], adminGroupId), log);
    expect(await role(t, users[0]!)).toBe('admin');
    // Removing the admin the tenant was created with: another admin remains, so it goes.
    await patchScimGroup(services, caller, admins.id, patch({ op: 'remove', path: `members[value eq "${t.admin.id}"]` }), log);
    expect(await role(t, t.admin.id)).toBe('user');
    lines.length = 0;
    await deleteScimGroup(services, caller, admins.id, log);
    expect(await role(t, users[0]!)).toBe('admin'); // the last admin
    expect(lines).toContainEqual(`warn scim-admin-demotion-refused tenantId=${t.id} userId=${users[0]} reason=last-admin`);
    await expect(getScimGroup(services, caller, admins.id)).rejects.toMatchObject({ status: 404 });
    await expect(deleteScimGroup(services, caller, admins.id, log)).rejects.toMatchObject({ status: 404 });
  });

  it('members are users of this tenant only: another tenant’s user, an unknown id or a non-id is 400 and nothing is written', async () => {
    const [a, b] = await Promise.all([world(), world()]);
    const made = await createScimGroup(services, a.caller, group('Roger admins', [a.users[0]!], a.adminGroupId), log);
    for (const stranger of [b.users[0]!, b.t.admin.id, randomUUID().replaceAll('-', ''), 'admin-roster', '']) {
      await expect(
        patchScimGroup(
          services,
          a.caller,
          made.id,
          patch({ op: 'Add', path: 'members', value: [{ value: a.users[1]! }, { value: stranger }] }),
          log,
        ),
      ).rejects.toMatchObject({ status: 400, scimType: 'invalidValue' });
      await expect(createScimGroup(services, a.caller, group(`g-${uniqueTag()}`, [stranger]), log)).rejects.toMatchObject({ status: 400 });
    }
    expect((await getScimGroup(services, a.caller, made.id)).members).toEqual([{ value: a.users[0] }]);
    expect(await role(a.t, a.users[1]!)).toBe('user');
    expect(await role(b.t, b.users[0]!)).toBe('user');
    expect((await listScimGroups(services, a.caller, {})).totalResults).toBe(1);
  });

  it('tenants are apart: another tenant’s group is 404 to every call and never listed', async () => {
    const [a, b] = await Promise.all([world(), world()]);
    const theirs = await createScimGroup(services, b.caller, group('Theirs', [b.users[0]!], b.adminGroupId), log);
    await expect(getScimGroup(services, a.caller, theirs.id)).rejects.toMatchObject({ status: 404 });
    await expect(replaceScimGroup(services, a.caller, theirs.id, group('Mine'), log)).rejects.toMatchObject({ status: 404 });
    await expect(
      patchScimGroup(services, a.caller, theirs.id, patch({ op: 'Remove', path: 'members', value: [{ value: b.users[0] }] }), log),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(deleteScimGroup(services, a.caller, theirs.id, log)).rejects.toMatchObject({ status: 404 });
    for (const filter of [undefined, 'displayName eq "Theirs"', `externalId eq "${b.adminGroupId}"`, `id eq "${theirs.id}"`]) {
      expect((await listScimGroups(services, a.caller, filter ? { filter } : {})).totalResults, filter).toBe(0);
    }
    // A's group of the same name is no conflict, and B's is untouched.
    expect((await createScimGroup(services, a.caller, group('Theirs'), log)).displayName).toBe('Theirs');
    expect((await getScimGroup(services, b.caller, theirs.id)).members).toEqual([{ value: b.users[0] }]);
    expect(await role(b.t, b.users[0]!)).toBe('admin');
  });

  it(`a group holds at most ${MAX_GROUP_MEMBERS} members; a member batch of an unchanged group costs its reads and one write`, async () => {
    const { caller, users } = await world();
    const tooMany = Array.from({ length: MAX_GROUP_MEMBERS + 1 }, (_, i) => i.toString(16).padStart(32, '0'));
    await expect(createScimGroup(services, caller, group('Big', tooMany), log)).rejects.toMatchObject({
      status: 400,
      detail: expect.stringContaining(String(MAX_GROUP_MEMBERS)),
    });
    const plain = await createScimGroup(services, caller, group('Plain'), log);
    const added = await measureCosmosUsage(() =>
      patchScimGroup(services, caller, plain.id, patch({ op: 'Add', path: 'members', value: users.map((value) => ({ value })) }), log),
    );
    expect(added.result.members).toHaveLength(2);
    // Group read, 2 member reads, write, audit, tenant policy (cached per instance: 0 or 1).
    expect(added.usage.requests).toBeLessThanOrEqual(6);
  });

  it('n creates with one displayName at once: exactly one is made, the others are 409 uniqueness; a rename frees the old name', async () => {
    const { caller } = await world();
    const name = `Printers ${uniqueTag()}`;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => createScimGroup(services, caller, group(i % 2 ? name.toUpperCase() : name), log)),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    expect(made).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ status: 409, scimType: 'uniqueness' });
    }
    const id = (made[0] as PromiseFulfilledResult<{ id: string }>).value.id;
    expect(
      (await listScimGroups(services, caller, { filter: `displayName eq "${name.toLowerCase()}"` })).Resources.map((g) => g.id),
    ).toEqual([id]);
    // A rename claims the new name and frees the old one; a change of case keeps it.
    await patchScimGroup(services, caller, id, patch({ op: 'Replace', value: { displayName: name.toLowerCase() } }), log);
    await patchScimGroup(services, caller, id, patch({ op: 'Replace', value: { displayName: `${name} renamed` } }), log);
    expect((await listScimGroups(services, caller, { filter: `displayName eq "${name}"` })).totalResults).toBe(0);
    expect((await createScimGroup(services, caller, group(name), log)).displayName).toBe(name);
    await expect(createScimGroup(services, caller, group(`${name} RENAMED`), log)).rejects.toMatchObject({ status: 409 });
    // Deleting a group frees its name.
    await deleteScimGroup(services, caller, id, log);
    expect((await createScimGroup(services, caller, group(`${name} renamed`), log)).displayName).toBe(`${name} renamed`);
  });

  it('several groups may share the admin externalId: a member stays admin while in any of them', async () => {
    const { t, caller, adminGroupId, users } = await world();
    const [u0] = users as [string];
    const one = await createScimGroup(services, caller, group('Admins one', [u0], adminGroupId), log);
    const two = await createScimGroup(services, caller, group('Admins two', [u0], adminGroupId.toUpperCase()), log);
    expect(await role(t, u0)).toBe('admin');
    await patchScimGroup(services, caller, one.id, patch({ op: 'Remove', path: 'members', value: [{ value: u0 }] }), log);
    expect(await role(t, u0)).toBe('admin');
    await deleteScimGroup(services, caller, two.id, log);
    expect(await role(t, u0)).toBe('user');
    // A PUT that moves a group off the admin externalId demotes its members.
    await replaceScimGroup(services, caller, one.id, group('Admins one', [u0], adminGroupId), log);
    expect(await role(t, u0)).toBe('admin');
    await replaceScimGroup(services, caller, one.id, group('Admins one', [u0], randomUUID()), log);
    expect(await role(t, u0)).toBe('user');
    for (const filter of [`externalId eq "${adminGroupId}"`, 'displayName eq "Admins one"']) {
      expect((await listScimGroups(services, caller, { filter })).totalResults, filter).toBe(filter.startsWith('e') ? 0 : 1);
    }
  });

  it('Add X and Remove X at once, again and again: X’s role always matches whether the group holds X', async () => {
    const { t, caller, adminGroupId, users } = await world();
    const x = users[0]!;
    const admins = await createScimGroup(services, caller, group('Roger admins', [], adminGroupId), log);
    const add = patch({ op: 'Add', path: 'members', value: [{ value: x }] });
    const remove = patch({ op: 'Remove', path: 'members', value: [{ value: x }] });
    for (let round = 0; round < 12; round++) {
      const order = round % 2 ? [add, remove] : [remove, add];
      await Promise.allSettled(order.map((body) => patchScimGroup(services, caller, admins.id, body, log)));
      const inGroup = (await getScimGroup(services, caller, admins.id)).members as { value: string }[];
      expect(await role(t, x), `round ${round}`).toBe(inGroup.some((m) => m.value === x) ? 'admin' : 'user');
    }
  });

  it('an erased user leaves every group that listed them', async () => {
    const { t, caller, adminGroupId, users } = await world();
    const [u0, u1] = users as [string, string];
    const a = await createScimGroup(services, caller, group('Erasure A', [u0, u1], adminGroupId), log);
    const b = await createScimGroup(services, caller, group('Erasure B', [u0]), log);
    const c = await createScimGroup(services, caller, group('Erasure C', [u1]), log);
    const counts = await eraseUser(services.store, t.id, u0, new Date());
    expect(counts).toMatchObject({ scimGroups: 2 });
    expect((await getScimGroup(services, caller, a.id)).members).toEqual([{ value: u1 }]);
    expect((await getScimGroup(services, caller, b.id)).members).toEqual([]);
    expect((await getScimGroup(services, caller, c.id)).members).toEqual([{ value: u1 }]);
    // Erasing again finds nothing more to do in the groups.
    expect((await eraseUser(services.store, t.id, u0, new Date()))?.scimGroups ?? 0).toBe(0);
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/logging/logger.js';
import { createScimGroup, getScimGroup, patchScimGroup } from '../../shared/scim/groups.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../shared/scim/resources.js';
import { createScimUser, listScimUsers, patchScimUser } from '../../shared/scim/users.js';
import type { Services } from '../../shared/services.js';
import { readUser } from '../../shared/users/users.js';
import { freshTenant, individual, uniqueTag } from '../helpers/fixtures.js';
import { oauthEnv, type Person } from '../helpers/roger.js';
import { nameAdminGroup, patchRequest as patch, scimToken, silentLog as log } from '../helpers/scim.js';
import { inContainer, isWrite, type CosmosRequest } from './cosmos-fault-proxy.js';
import { faultyStoreHostForFile, type FaultyStoreHost } from './faulty-store.js';

/**
 * SCIM writes over a store that fails part-way (shared/scim/users.ts, groups.ts): nothing is left
 * half-written. A create cut short at any of its writes leaves no look-up item claimed; a rename
 * or deactivation whose user write fails leaves the old names, the sessions and the activity as
 * they were; a member batch whose group write fails changes no role. Each retried afterwards succeeds.
 */
const admin: Person = { email: 'ops@scim-faults.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const member: Person = { email: 'uma@scim-faults.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const accountWrites = (request: CosmosRequest) => isWrite(request) && inContainer('accounts')(request);
/** The k-th write to `accounts` from now on (1-based). */
function nthAccountWrite(k: number) {
  let seen = 0;
  return (request: CosmosRequest) => accountWrites(request) && ++seen === k;
}
const accountDeletes = (request: CosmosRequest) => accountWrites(request) && request.method === 'DELETE';
const writesOf = (id: string) => (request: CosmosRequest) => accountWrites(request) && request.path.endsWith(`/docs/${id}`);

function entraUser() {
  const tag = uniqueTag();
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    externalId: randomUUID(),
    userName: `megan.b-${tag}@contoso.test`,
    emails: [{ primary: true, type: 'work', value: `megan-${tag}@contoso.test` }],
    displayName: 'Megan Bowen',
  };
}

describe('SCIM writes when the store fails part-way', () => {
  let faulty: FaultyStoreHost;
  let services: Services;
  faultyStoreHostForFile(oauthEnv, (started) => ({ faulty, services } = started));

  async function world() {
    const t = await freshTenant(faulty.host, 'scim-faults', individual(admin), [individual(member)]);
    return { t, caller: (await scimToken(faulty.host, t)).caller };
  }

  /** Every username, email and externalId look-up of the tenant names a user who exists. */
  async function orphanedLookUps(tenantId: string): Promise<number> {
    const { resources } = await services.store
      .container('accounts')
      .items.query<{ userId: string }>({
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type IN ('login-name', 'scim-external')",
        parameters: [{ name: '@tenantId', value: tenantId }],
      })
      .fetchAll();
    let orphans = 0;
    for (const { userId } of resources) if (!(await readUser(services.store, tenantId, userId))) orphans++;
    return orphans;
  }

  it('a create cut short at each of its five writes (email, userName, externalId, username, the user) leaves no claim; the retry succeeds', async () => {
    const { t, caller } = await world();
    for (let k = 1; k <= 5; k++) {
      const body = entraUser();
      faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: nthAccountWrite(k), times: 1 });
      await expect(createScimUser(services, caller, body, log), `write ${k}`).rejects.toThrow();
      faulty.proxy.clear();
      expect(await orphanedLookUps(t.id), `write ${k}`).toBe(0);
      expect((await listScimUsers(services, caller, { filter: `userName eq "${body.userName}"` })).totalResults).toBe(0);
      const created = await createScimUser(services, caller, body, log);
      expect(created.userName).toBe(body.userName);
    }
  });

  it('a rename whose user write fails keeps the old names and frees the new; the retry moves them', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const next = `megan.new-${uniqueTag()}@contoso.test`;
    const rename = patch({ op: 'Replace', value: { userName: next, 'emails[type eq "work"].value': next, externalId: randomUUID() } });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(id) });
    await expect(patchScimUser(services, caller, id, rename, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect((await listScimUsers(services, caller, { filter: `userName eq "${body.userName}"` })).Resources).toMatchObject([{ id }]);
    expect((await listScimUsers(services, caller, { filter: `externalId eq "${body.externalId}"` })).Resources).toMatchObject([{ id }]);
    expect((await listScimUsers(services, caller, { filter: `userName eq "${next}"` })).totalResults).toBe(0);
    expect(await orphanedLookUps(t.id)).toBe(0);

    expect((await patchScimUser(services, caller, id, rename, log)).userName).toBe(next);
    expect((await listScimUsers(services, caller, { filter: `userName eq "${next}"` })).Resources).toMatchObject([{ id }]);
    expect((await listScimUsers(services, caller, { filter: `userName eq "${body.userName}"` })).totalResults).toBe(0);
    expect(await orphanedLookUps(t.id)).toBe(0);
  });

  it('a rename whose old names cannot be released after the user write still succeeds: the new names stay the user’s, nobody else gets them', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    const { id } = await createScimUser(services, caller, body, log);
    const next = `megan.new-${uniqueTag()}@contoso.test`;
    const newExternalId = randomUUID();
    const rename = patch({ op: 'Replace', value: { userName: next, 'emails[type eq "work"].value': next, externalId: newExternalId } });
    const warnings: string[] = [];
    const watching: Logger = { ...log, warn: (event, fields) => warnings.push(`${event} ${JSON.stringify(fields)}`) };
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: accountDeletes });
    const renamed = await patchScimUser(services, caller, id, rename, watching);
    faulty.proxy.clear();
    expect(renamed).toMatchObject({ userName: next, externalId: newExternalId });
    expect(warnings.some((w) => w.startsWith('scim-user-after-write-failed') && w.includes(id))).toBe(true);
    expect(warnings.join('\n')).not.toContain(body.userName);

    expect((await listScimUsers(services, caller, { filter: `userName eq "${next}"` })).Resources).toMatchObject([{ id }]);
    expect((await listScimUsers(services, caller, { filter: `externalId eq "${newExternalId}"` })).Resources).toMatchObject([{ id }]);
    expect((await listScimUsers(services, caller, { filter: `userName eq "${body.userName}"` })).totalResults).toBe(0);
    // Entra's retry of a create under the new names meets the user, never a second one.
    await expect(
      createScimUser(services, caller, { ...entraUser(), userName: next, emails: [{ type: 'work', value: next }] }, log),
    ).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    await expect(createScimUser(services, caller, { ...entraUser(), externalId: newExternalId }, log)).rejects.toMatchObject({
      status: 409,
      scimType: 'uniqueness',
    });
    expect((await readUser(services.store, t.id, id))!.scim?.userName).toBe(next);
  });

  it('a look-up item a failed release left behind does not block its name for good: once old enough, the same create takes it over', async () => {
    const { t, caller } = await world();
    const body = entraUser();
    // The user write fails, and so does every release of the claims made for it.
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: nthAccountWrite(5), times: 1 });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: accountDeletes });
    await expect(createScimUser(services, caller, body, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect(await orphanedLookUps(t.id)).toBeGreaterThanOrEqual(3);

    // While young, such an item may be a claim whose write is under way: still 409.
    await expect(createScimUser(services, caller, body, log)).rejects.toMatchObject({ status: 409, scimType: 'uniqueness' });
    const later = { store: services.store, now: () => new Date(Date.now() + 3 * 60_000) };
    const created = await createScimUser(later, caller, body, log);
    expect(created).toMatchObject({ userName: body.userName, externalId: body.externalId });
    expect((await listScimUsers(services, caller, { filter: `userName eq "${body.userName}"` })).Resources).toMatchObject([
      { id: created.id },
    ]);
    expect((await listScimUsers(services, caller, { filter: `externalId eq "${body.externalId}"` })).Resources).toMatchObject([
      { id: created.id },
    ]);
    // A name its user still holds is never taken over, however old.
    await expect(createScimUser(later, caller, { ...entraUser(), userName: body.userName }, log)).rejects.toMatchObject({
      status: 409,
      scimType: 'uniqueness',
    });
  });

  it('a deactivation whose user write fails leaves the user active with their sessions; the retry ends them', async () => {
    const { t, caller } = await world();
    const uma = t.users[0]!;
    const off = patch({ op: 'Replace', path: 'active', value: 'False' });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(uma.id) });
    await expect(patchScimUser(services, caller, uma.id, off, log)).rejects.toThrow();
    faulty.proxy.clear();
    const kept = (await readUser(services.store, t.id, uma.id))!;
    expect(kept.deactivatedAt).toBeUndefined();
    expect(kept.refreshFamilies).toHaveLength(1);
    expect(kept.scim).toBeUndefined();

    expect((await patchScimUser(services, caller, uma.id, off, log)).active).toBe(false);
    expect((await readUser(services.store, t.id, uma.id))!.refreshFamilies).toEqual([]);
  });

  it('a member batch whose group write fails changes no role; the retry makes them admins', async () => {
    const { t, caller } = await world();
    const adminGroupId = await nameAdminGroup(faulty.host, t);
    const group = await createScimGroup(
      services,
      caller,
      { schemas: [GROUP_SCHEMA], displayName: 'Roger admins', externalId: adminGroupId },
      log,
    );
    const add = patch({ op: 'Add', path: 'members', value: [{ value: t.users[0]!.id }] });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(`scim-group:${group.id}`) });
    await expect(patchScimGroup(services, caller, group.id, add, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect((await getScimGroup(services, caller, group.id)).members).toEqual([]);
    expect((await readUser(services.store, t.id, t.users[0]!.id))!.role).toBe('user');

    await patchScimGroup(services, caller, group.id, add, log);
    expect((await readUser(services.store, t.id, t.users[0]!.id))!.role).toBe('admin');
  });
});

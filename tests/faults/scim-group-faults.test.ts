import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createScimGroup, deleteScimGroup, getScimGroup, patchScimGroup } from '../../shared/scim/groups.js';
import { GROUP_SCHEMA } from '../../shared/scim/resources.js';
import type { Services } from '../../shared/services.js';
import { readUser } from '../../shared/users/users.js';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { oauthEnv, type Person } from '../helpers/roger.js';
import { nameAdminGroup, patchRequest as patch, scimToken, silentLog as log } from '../helpers/scim.js';
import { inContainer, isWrite, type CosmosRequest } from './cosmos-fault-proxy.js';
import { faultyStoreHostForFile, type FaultyStoreHost } from './faulty-store.js';

/**
 * The admin group's roles when the store fails at a member's role write (shared/scim/groups.ts):
 * the group write stands and the request fails; the identity provider's retry of the same
 * operation finds the roles still to change and changes them (roles are reconciled with the
 * groups as stored, not with what the operation changed). A DELETE of the admin group demotes
 * first and deletes after, so its retry still finds the group.
 */
const admin: Person = { email: 'ops@scim-group-faults.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const member: Person = { email: 'uma@scim-group-faults.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const writesOf = (id: string) => (request: CosmosRequest) =>
  isWrite(request) && inContainer('accounts')(request) && request.path.endsWith(`/docs/${id}`);

describe('SCIM admin group when a role write fails', () => {
  let faulty: FaultyStoreHost;
  let services: Services;
  faultyStoreHostForFile(oauthEnv, (started) => ({ faulty, services } = started));

  async function world() {
    const t = await freshTenant(faulty.host, 'scim-group-faults', individual(admin), [individual(member)]);
    const adminGroupId = await nameAdminGroup(faulty.host, t);
    const { caller } = await scimToken(faulty.host, t);
    const group = await createScimGroup(
      services,
      caller,
      { schemas: [GROUP_SCHEMA], displayName: `Roger admins ${randomUUID()}`, externalId: adminGroupId },
      log,
    );
    const role = async () => (await readUser(services.store, t.id, t.users[0]!.id))!.role;
    return { t, caller, group, uma: t.users[0]!.id, role };
  }

  it('an Add whose role write fails leaves the member in the group as a user; the retry makes them admin', async () => {
    const { caller, group, uma, role } = await world();
    const add = patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: uma }] });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(uma) });
    await expect(patchScimGroup(services, caller, group.id, add, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect((await getScimGroup(services, caller, group.id)).members).toEqual([{ value: uma }]);
    expect(await role()).toBe('user');

    await patchScimGroup(services, caller, group.id, add, log);
    expect(await role()).toBe('admin');
  });

  it('a Remove whose demotion fails leaves an admin outside the group; the retry makes them a user', async () => {
    const { caller, group, uma, role } = await world();
    await patchScimGroup(services, caller, group.id, patch({ op: 'Add', path: 'members', value: [{ value: uma }] }), log);
    expect(await role()).toBe('admin');
    const remove = patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: uma }] });
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(uma) });
    await expect(patchScimGroup(services, caller, group.id, remove, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect((await getScimGroup(services, caller, group.id)).members).toEqual([]);

    await patchScimGroup(services, caller, group.id, remove, log);
    expect(await role()).toBe('user');
  });

  it('a DELETE of the admin group whose demotion fails keeps the group; the retry demotes and deletes', async () => {
    const { caller, group, uma, role } = await world();
    await patchScimGroup(services, caller, group.id, patch({ op: 'Add', path: 'members', value: [{ value: uma }] }), log);
    expect(await role()).toBe('admin');
    faulty.proxy.inject({ fault: { kind: 'unavailable' }, match: writesOf(uma) });
    await expect(deleteScimGroup(services, caller, group.id, log)).rejects.toThrow();
    faulty.proxy.clear();
    expect((await getScimGroup(services, caller, group.id)).members).toEqual([{ value: uma }]);

    await deleteScimGroup(services, caller, group.id, log);
    expect(await role()).toBe('user');
    await expect(getScimGroup(services, caller, group.id)).rejects.toMatchObject({ status: 404 });
  });
});

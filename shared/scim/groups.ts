import { audit, scimActorId, type AuditDetails } from '../audit/audit.js';
import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import type { Store } from '../store/store.js';
import { readTenant } from '../tenants/tenants.js';
import { newId } from '../tokens/secrets.js';
import { changeUser } from '../users/admin.js';
import { readUser } from '../users/users.js';
import { invalidValue, notFound, uniqueness } from './errors.js';
import { groupFilter } from './filter.js';
import type { ScimPatchOperation } from 'scim-patch';
import { applyPatch, patchOperations } from './patch.js';
import {
  attribute,
  GROUP_SCHEMA,
  isOurId,
  isPlainObject,
  listOf,
  readString,
  resourceBody,
  version,
  type ListQuery,
  type ScimCaller,
  type ScimList,
  type ScimResource,
} from './resources.js';

/**
 * SCIM Groups (RFC 7643 §4.2; docs/provisioning.md#groups): kept for one purpose, to make the
 * members of one directory group the tenant's admins. That group is the one whose `externalId`
 * is the tenant policy's `entraAdminGroupId` (the group's object id, which Entra sends as
 * externalId, and the same setting the Microsoft sign-in reads in the `groups` claim). Members
 * added to it become admins, members removed from it (or the group deleted) users again; the
 * tenant keeps its last admin whatever the directory says (admin-roster.ts), logged by ids.
 * Other groups are kept as sent and change nobody.
 */
export interface ScimGroupDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'scim-group';
  readonly groupId: string;
  readonly displayName: string;
  readonly externalId?: string;
  /** User ids of the tenant. */
  readonly members: readonly string[];
  /** The SCIM token that created the group (its id). */
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly _etag?: string;
}

/** Stated in docs/provisioning.md: a bigger group is refused, not cut. */
export const MAX_GROUP_MEMBERS = 10_000;
const GROUP_WRITE_ATTEMPTS = 10;

type Deps = Pick<Services, 'store' | 'now'>;

interface ScimGroupInput {
  readonly displayName: string;
  readonly externalId?: string;
  readonly members: readonly string[];
}

const docId = (groupId: string) => `scim-group:${groupId}`;

/** A group resource (a POST or PUT body, or a PATCH's result) in our terms: `$ref`, `display` and other attributes are dropped. */
function readGroupResource(resource: Record<string, unknown>): ScimGroupInput {
  const displayName = readString(attribute(resource, 'displayName'), 'displayName');
  if (!displayName) throw invalidValue('displayName is required');
  const externalId = readString(attribute(resource, 'externalId'), 'externalId');
  const sent = attribute(resource, 'members') ?? [];
  if (!Array.isArray(sent)) throw invalidValue('members must be an array');
  const members = new Set<string>();
  sent.forEach((member: unknown, i) => {
    const value = isPlainObject(member) ? attribute(member, 'value') : undefined;
    if (typeof value !== 'string' || value.trim() === '') throw invalidValue(`members[${i}] needs the user's id as "value"`);
    members.add(value.trim());
  });
  if (members.size > MAX_GROUP_MEMBERS) throw invalidValue(`a group has at most ${MAX_GROUP_MEMBERS} members`);
  return { displayName, ...(externalId !== undefined ? { externalId } : {}), members: [...members] };
}

export function scimGroup(group: ScimGroupDoc): ScimResource {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.groupId,
    displayName: group.displayName,
    ...(group.externalId !== undefined ? { externalId: group.externalId } : {}),
    members: group.members.map((value) => ({ value })),
    meta: { resourceType: 'Group', created: group.createdAt, lastModified: group.updatedAt, ...version(group._etag) },
  };
}

async function readGroup(store: Store, tenantId: string, groupId: string): Promise<ScimGroupDoc | undefined> {
  if (!isOurId(groupId)) return undefined;
  const { resource } = await store.container('accounts').item(docId(groupId), tenantId).read<ScimGroupDoc>();
  return resource?.type === 'scim-group' && resource.groupId === groupId ? resource : undefined;
}

async function existing(store: Store, caller: ScimCaller, groupId: string): Promise<ScimGroupDoc> {
  const group = await readGroup(store, caller.tenantId, groupId);
  if (!group) throw notFound('Group');
  return group;
}

/** The tenant's groups, by id (a tenant has few: one query in its partition). */
async function allGroups(store: Store, tenantId: string): Promise<ScimGroupDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<ScimGroupDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'scim-group'",
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

const sameText = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** displayName is unique in the tenant, ignoring case (RFC 7643 §4.2 leaves it to us; Entra matches groups by it). */
async function checkDisplayName(store: Store, tenantId: string, displayName: string, groupId: string) {
  const groups = await allGroups(store, tenantId);
  if (groups.some((group) => group.groupId !== groupId && sameText(group.displayName, displayName))) {
    throw uniqueness('displayName is already another group’s in this tenant');
  }
}

/** Each member not already in the group must be a user of this tenant (a point read each); nothing is written otherwise. */
async function checkNewMembers(store: Store, tenantId: string, members: readonly string[], already: readonly string[]) {
  const known = new Set(already);
  for (const userId of members) {
    if (known.has(userId)) continue;
    const user = isOurId(userId) ? await readUser(store, tenantId, userId) : undefined;
    if (!user) throw invalidValue('a member is not a user of this tenant');
  }
}

/** The members who are admins because of this group: all of them when it is the admin group, else none. */
const adminMembers = (group: Pick<ScimGroupDoc, 'externalId' | 'members'> | undefined, adminGroupId: string | undefined) =>
  group && sameText(group.externalId, adminGroupId) ? group.members : [];

/**
 * Roles follow the admin group after its write: members who joined it become admins, members who
 * left it users, each audited as `scim.user-changed` (fields: role) by the token. A demotion the
 * roster refuses (the last admin) is left undone and logged by ids.
 * Each change stands alone: a failure leaves the group written and is thrown (the identity
 * provider sends the operation again, which finds the roles still to change).
 */
async function followAdminGroup(
  { store, now }: Deps,
  caller: ScimCaller,
  before: Pick<ScimGroupDoc, 'externalId' | 'members'> | undefined,
  after: Pick<ScimGroupDoc, 'externalId' | 'members'> | undefined,
  log: Logger,
) {
  const { tenantId } = caller;
  const roleChanged = (userId: string) =>
    audit(store, log, {
      tenantId,
      actorId: scimActorId(caller.tokenId),
      action: 'scim.user-changed',
      targetId: userId,
      details: { fields: ['role'] },
      at: now(),
    });
  const adminGroupId = (await readTenant(store, tenantId))?.policy.entraAdminGroupId;
  if (!adminGroupId) return;
  const was = new Set(adminMembers(before, adminGroupId));
  const is = new Set(adminMembers(after, adminGroupId));
  for (const userId of is) {
    if (was.has(userId)) continue;
    const user = await readUser(store, tenantId, userId);
    if (!user || user.role === 'admin') continue;
    await changeUser(store, user, { role: 'admin' });
    await roleChanged(userId);
  }
  for (const userId of was) {
    if (is.has(userId)) continue;
    const user = await readUser(store, tenantId, userId);
    if (!user || user.role !== 'admin') continue;
    try {
      await changeUser(store, user, { role: 'user' });
      await roleChanged(userId);
    } catch (error) {
      if (!(error instanceof Conflict)) throw error;
      log.warn('scim-admin-demotion-refused', { tenantId, userId, reason: 'last-admin' });
    }
  }
}

function changeDetails(before: ScimGroupDoc, after: ScimGroupDoc): AuditDetails {
  const old = new Set(before.members);
  const now = new Set(after.members);
  const fields = (['displayName', 'externalId'] as const).filter((f) => before[f] !== after[f]);
  return {
    fields,
    membersAdded: after.members.filter((m) => !old.has(m)).length,
    membersRemoved: before.members.filter((m) => !now.has(m)).length,
  };
}

/** POST /Groups. */
export async function createScimGroup({ store, now }: Deps, caller: ScimCaller, body: unknown, log: Logger): Promise<ScimResource> {
  const input = readGroupResource(resourceBody(body, GROUP_SCHEMA));
  const { tenantId } = caller;
  const groupId = newId();
  await checkDisplayName(store, tenantId, input.displayName, groupId);
  await checkNewMembers(store, tenantId, input.members, []);
  const time = now().toISOString();
  const group: ScimGroupDoc = {
    id: docId(groupId),
    tenantId,
    type: 'scim-group',
    groupId,
    ...input,
    createdBy: caller.tokenId,
    createdAt: time,
    updatedAt: time,
  };
  const { resource } = await store.container('accounts').items.create(group);
  await audit(store, log, {
    tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-created',
    targetId: groupId,
    details: { members: group.members.length },
    at: now(),
  });
  await followAdminGroup({ store, now }, caller, undefined, group, log);
  return scimGroup(resource ?? group);
}

/** GET /Groups/{id}. */
export async function getScimGroup({ store }: Deps, caller: ScimCaller, id: string): Promise<ScimResource> {
  return scimGroup(await existing(store, caller, id));
}

/** GET /Groups: the tenant's groups by id, or those a supported filter names (filter.ts). */
export async function listScimGroups({ store }: Deps, caller: ScimCaller, query: ListQuery): Promise<ScimList> {
  if (query.filter === undefined) return listOf((await allGroups(store, caller.tenantId)).map(scimGroup), query);
  const { attribute: name, value } = groupFilter(query.filter);
  if (name === 'id') {
    const group = await readGroup(store, caller.tenantId, value);
    return listOf(group ? [scimGroup(group)] : [], query);
  }
  const groups = await allGroups(store, caller.tenantId);
  return listOf(groups.filter((group) => sameText(group[name], value)).map(scimGroup), query);
}

/**
 * Writes the group as `change` makes it from the group as stored, conditionally on its ETag: a
 * racing write (another batch of members) makes this one read the group again and apply its
 * change on top, so neither undoes the other.
 */
async function writeGroup(
  { store, now }: Deps,
  caller: ScimCaller,
  group: ScimGroupDoc,
  change: (current: ScimGroupDoc) => ScimGroupInput,
  log: Logger,
): Promise<ScimGroupDoc> {
  const { tenantId } = caller;
  let before = group;
  const written = await writeOnLatest(
    group,
    async (current) => {
      before = current;
      const input = change(current);
      if (!sameText(input.displayName, current.displayName)) await checkDisplayName(store, tenantId, input.displayName, current.groupId);
      await checkNewMembers(store, tenantId, input.members, current.members);
      const next: ScimGroupDoc = {
        ...current,
        displayName: input.displayName,
        members: input.members,
        updatedAt: now().toISOString(),
      };
      const { externalId: _old, ...rest } = next;
      return replaceIfUnchanged(
        store.container('accounts'),
        input.externalId !== undefined ? { ...rest, externalId: input.externalId } : rest,
        tenantId,
      );
    },
    (current) => readGroup(store, tenantId, current.groupId),
    GROUP_WRITE_ATTEMPTS,
  );
  if (!written) throw notFound('Group');
  await audit(store, log, {
    tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-changed',
    targetId: written.groupId,
    details: changeDetails(before, written),
    at: now(),
  });
  await followAdminGroup({ store, now }, caller, before, written, log);
  return written;
}

/** PUT /Groups/{id}: displayName, externalId and members replaced by the body's. */
export async function replaceScimGroup(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const input = readGroupResource(resourceBody(body, GROUP_SCHEMA));
  const group = await existing(deps.store, caller, id);
  return scimGroup(await writeGroup(deps, caller, group, () => input, log));
}

/**
 * A member in an operation on `members` as we show one, `{ value }`: Entra sends
 * `{ "$ref": null, "value": … }`, and a remove matches whole members, so the extra keys would
 * match nobody.
 */
function memberValuesOnly(operation: ScimPatchOperation): ScimPatchOperation {
  if (!('value' in operation) || !Array.isArray(operation.value) || operation.path?.trim().toLowerCase() !== 'members') return operation;
  const value = operation.value.map((member: unknown) => (isPlainObject(member) ? { value: attribute(member, 'value') } : member));
  return { ...operation, value } as ScimPatchOperation;
}

/** PATCH /Groups/{id}: members added and removed in batches, displayName replaced (patch.ts). */
export async function patchScimGroup(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const operations = patchOperations(body).map(memberValuesOnly);
  const group = await existing(deps.store, caller, id);
  const change = (current: ScimGroupDoc) => {
    const view = scimGroup(current) as ScimResource & { schemas: string[] };
    return readGroupResource(applyPatch(view, operations));
  };
  return scimGroup(await writeGroup(deps, caller, group, change, log));
}

/** DELETE /Groups/{id}: the group goes; if it was the admin group, its members are users again. The same id again is 404. */
export async function deleteScimGroup({ store, now }: Deps, caller: ScimCaller, id: string, log: Logger): Promise<void> {
  const group = await existing(store, caller, id);
  const deleted = await writeOnLatest(
    group,
    async (current) => {
      await store
        .container('accounts')
        .item(current.id, caller.tenantId)
        .delete({ accessCondition: { type: 'IfMatch', condition: current._etag! } });
      return current;
    },
    (current) => readGroup(store, caller.tenantId, current.groupId),
    GROUP_WRITE_ATTEMPTS,
  );
  if (!deleted) throw notFound('Group');
  await audit(store, log, {
    tenantId: caller.tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-deleted',
    targetId: deleted.groupId,
    at: now(),
  });
  await followAdminGroup({ store, now }, caller, deleted, undefined, log);
}

import { audit, scimActorId, type AuditDetails } from '../audit/audit.js';
import { Conflict, NotFound, Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { isConflict, isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import { deleteIfUnchanged, replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import type { Store } from '../store/store.js';
import { readTenant } from '../tenants/tenants.js';
import { hashSecret, newId } from '../tokens/secrets.js';
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
  paging,
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

/** What checks and listings read of a group: everything but its member list (up to 10,000 ids). */
type GroupHeader = Omit<ScimGroupDoc, 'members'>;

/** The tenant's groups without their members, by id (a tenant has few: one query in its partition, projected). */
async function groupHeaders(store: Store, tenantId: string): Promise<GroupHeader[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<GroupHeader>(
      {
        query: `SELECT c.id, c.tenantId, c.type, c.groupId, c.displayName, c.externalId, c.createdBy, c.createdAt, c.updatedAt, c._etag
                FROM c WHERE c.tenantId = @tenantId AND c.type = 'scim-group'`,
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** The whole items of these groups (one point read each), in their order; a group deleted meanwhile is left out. */
async function fullGroups(store: Store, tenantId: string, headers: readonly GroupHeader[]): Promise<ScimGroupDoc[]> {
  const groups = await Promise.all(headers.map((header) => readGroup(store, tenantId, header.groupId)));
  return groups.filter((group): group is ScimGroupDoc => group !== undefined);
}

const sameText = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * displayName is unique in the tenant, ignoring case and Unicode compatibility forms (RFC 7643
 * §4.2 leaves it to us; Entra matches groups by it). A look-up item per name, `scim-group-name:`
 * and the SHA-256 of the name so normalised, is created before the group's write, so of racing
 * creates (or renames) to one name exactly one gets it; the others get the store's 409.
 */
interface GroupNameDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'scim-group-name';
  readonly groupId: string;
  readonly claimedAt: string;
  readonly _etag?: string;
}

const nameKey = (displayName: string) => displayName.normalize('NFKC').toLowerCase();
const nameItemId = (displayName: string) => `scim-group-name:${hashSecret(nameKey(displayName))}`;
const sameName = (a: string, b: string) => nameKey(a) === nameKey(b);
/** A claim whose group never came (a create cut short before its write) gives way after this long. */
const ABANDONED_CLAIM_MS = 5 * 60_000;

/** The group that holds this displayName now (two point reads), or undefined. */
async function groupByName(store: Store, tenantId: string, displayName: string): Promise<ScimGroupDoc | undefined> {
  const { resource: entry } = await store.container('accounts').item(nameItemId(displayName), tenantId).read<GroupNameDoc>();
  if (entry?.type !== 'scim-group-name') return undefined;
  const group = await readGroup(store, tenantId, entry.groupId);
  // The look-up item can outlive a rename whose release failed: the group decides.
  return group && sameName(group.displayName, displayName) ? group : undefined;
}

/**
 * Claims the displayName for the group; 409 uniqueness when another group holds it. A look-up
 * item left behind (a release that failed after a rename or delete, or a create abandoned
 * before its write) is taken over, conditionally on its ETag.
 */
async function claimGroupName({ store, now }: Deps, tenantId: string, displayName: string, groupId: string): Promise<void> {
  const item: GroupNameDoc = { id: nameItemId(displayName), tenantId, type: 'scim-group-name', groupId, claimedAt: now().toISOString() };
  const taken = () => uniqueness('displayName is already another group’s in this tenant');
  try {
    await store.container('accounts').items.create(item);
    return;
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  const { resource: holder } = await store.container('accounts').item(item.id, tenantId).read<GroupNameDoc>();
  if (!holder) throw taken(); // released meanwhile: the caller's retry claims it
  if (holder.groupId === groupId) return;
  const group = await readGroup(store, tenantId, holder.groupId);
  const abandoned = group ? !sameName(group.displayName, displayName) : now().getTime() - Date.parse(holder.claimedAt) > ABANDONED_CLAIM_MS;
  if (!abandoned) throw taken();
  try {
    await replaceIfUnchanged(store.container('accounts'), { ...item, _etag: holder._etag }, tenantId);
  } catch (error) {
    if (isPreconditionFailed(error) || isNotFound(error)) throw taken();
    throw error;
  }
}

/** Frees a displayName if this group still holds it (best effort: a failure is logged by ids; a later claim takes the item over). */
async function releaseGroupName(store: Store, tenantId: string, displayName: string, groupId: string, log: Logger): Promise<void> {
  try {
    const { resource: holder } = await store.container('accounts').item(nameItemId(displayName), tenantId).read<GroupNameDoc>();
    if (holder?.groupId === groupId) await deleteIfUnchanged(store.container('accounts'), holder, tenantId);
  } catch {
    log.warn('scim-group-name-release-failed', { tenantId, groupId });
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

const isAdminGroup = (group: Pick<ScimGroupDoc, 'externalId'> | undefined, adminGroupId: string | undefined) =>
  group !== undefined && sameText(group.externalId, adminGroupId);

/** Rounds of reconciliation: each round after the first re-checks only the roles the one before wrote. */
const ROLE_ROUNDS = 5;

/**
 * Roles follow the admin groups as stored: each user in `touched` (the users a group write
 * named, added or removed) is set to `admin` when a member of any group whose externalId is the
 * policy's `entraAdminGroupId`, and to `user` otherwise; a role already right is left alone.
 * Each change is audited as `scim.user-changed` (fields: role) by the token. A demotion the
 * roster refuses (the last admin) is left undone and logged by ids.
 * Reconciling rather than following the write's difference makes it idempotent: a role write
 * that failed is made by the identity provider's retry of the operation, which names the same
 * users. And race-safe: a user whose role this call wrote is checked again against the groups
 * as stored after the write, so of two racing member batches the last to look decides.
 * `without` is a group to count as empty (the admin group a DELETE is about to remove).
 */
async function reconcileRoles(
  { store, now }: Deps,
  caller: ScimCaller,
  touched: Iterable<string>,
  log: Logger,
  without?: string,
): Promise<void> {
  const { tenantId } = caller;
  const adminGroupId = (await readTenant(store, tenantId))?.policy.entraAdminGroupId;
  if (!adminGroupId) return;
  let pending = [...new Set(touched)];
  for (let round = 1; pending.length > 0; round++) {
    if (round > ROLE_ROUNDS) throw new Unavailable(1, 'the admin group kept changing; send the operation again');
    const adminGroups = (await groupHeaders(store, tenantId)).filter((g) => g.groupId !== without && isAdminGroup(g, adminGroupId));
    const admins = new Set((await fullGroups(store, tenantId, adminGroups)).flatMap((group) => group.members));
    const written: string[] = [];
    for (const userId of pending) {
      const user = await readUser(store, tenantId, userId);
      const role = admins.has(userId) ? 'admin' : 'user';
      if (!user || user.role === role) continue;
      try {
        await changeUser(store, user, { role });
      } catch (error) {
        if (error instanceof NotFound) continue; // erased meanwhile
        if (!(error instanceof Conflict) || role === 'admin') throw error;
        // The tenant's last admin (admin-roster.ts) stays one.
        log.warn('scim-admin-demotion-refused', { tenantId, userId, reason: 'last-admin' });
        continue;
      }
      await audit(store, log, {
        tenantId,
        actorId: scimActorId(caller.tokenId),
        action: 'scim.user-changed',
        targetId: userId,
        details: { fields: ['role'] },
        at: now(),
      });
      written.push(userId);
    }
    pending = written;
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
export async function createScimGroup(deps: Deps, caller: ScimCaller, body: unknown, log: Logger): Promise<ScimResource> {
  const { store, now } = deps;
  const input = readGroupResource(resourceBody(body, GROUP_SCHEMA));
  const { tenantId } = caller;
  const groupId = newId();
  await checkNewMembers(store, tenantId, input.members, []);
  await claimGroupName(deps, tenantId, input.displayName, groupId);
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
  let resource: ScimGroupDoc | undefined;
  try {
    ({ resource } = await store.container('accounts').items.create(group));
  } catch (error) {
    await releaseGroupName(store, tenantId, input.displayName, groupId, log);
    throw error;
  }
  await audit(store, log, {
    tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-created',
    targetId: groupId,
    details: { members: group.members.length },
    at: now(),
  });
  if (isAdminGroup(group, (await readTenant(store, tenantId))?.policy.entraAdminGroupId)) {
    await reconcileRoles(deps, caller, group.members, log);
  }
  return scimGroup(resource ?? group);
}

/** GET /Groups/{id}. */
export async function getScimGroup({ store }: Deps, caller: ScimCaller, id: string): Promise<ScimResource> {
  return scimGroup(await existing(store, caller, id));
}

/**
 * GET /Groups: the tenant's groups by id, or those a supported filter names (filter.ts). A
 * displayName is two point reads (its look-up item, the group); an externalId and a page read
 * the groups without their members and then the whole items of the page only.
 */
export async function listScimGroups({ store }: Deps, caller: ScimCaller, query: ListQuery): Promise<ScimList> {
  const { tenantId } = caller;
  const filter = query.filter === undefined ? undefined : groupFilter(query.filter);
  if (filter?.attribute === 'id' || filter?.attribute === 'displayName') {
    const group =
      filter.attribute === 'id' ? await readGroup(store, tenantId, filter.value) : await groupByName(store, tenantId, filter.value);
    return listOf(group ? [scimGroup(group)] : [], query);
  }
  const headers = (await groupHeaders(store, tenantId)).filter((g) => filter === undefined || sameText(g.externalId, filter.value));
  const { startIndex, count } = paging(query);
  const page = await fullGroups(store, tenantId, headers.slice(startIndex - 1, startIndex - 1 + count));
  return { totalResults: headers.length, startIndex, itemsPerPage: page.length, Resources: page.map(scimGroup) };
}

/** The users a group write names: those it added or removed, and `named` (those its operation names, whose roles a retry must finish). */
function touchedBy(before: ScimGroupDoc, after: Pick<ScimGroupDoc, 'members'>, named: Iterable<string>): Set<string> {
  const old = new Set(before.members);
  const next = new Set(after.members);
  return new Set([...named, ...before.members.filter((m) => !next.has(m)), ...after.members.filter((m) => !old.has(m))]);
}

/**
 * Writes the group as `change` makes it from the group as stored, conditionally on its ETag: a
 * racing write (another batch of members) makes this one read the group again and apply its
 * change on top, so neither undoes the other. A new displayName is claimed before the write and
 * the old one released after; then the roles of the users the write touched (and those `named`
 * gives for the group as it was) are reconciled when the group is, or was, an admin group.
 */
async function writeGroup(
  deps: Deps,
  caller: ScimCaller,
  group: ScimGroupDoc,
  change: (current: ScimGroupDoc) => ScimGroupInput | Promise<ScimGroupInput>,
  named: (before: ScimGroupDoc, after: ScimGroupInput) => Iterable<string>,
  log: Logger,
): Promise<ScimGroupDoc> {
  const { store, now } = deps;
  const { tenantId } = caller;
  let before = group;
  let input: ScimGroupInput | undefined;
  const claimed = new Map<string, string>(); // name key → the displayName claimed
  let written: ScimGroupDoc | undefined;
  try {
    written = await writeOnLatest(
      group,
      async (current) => {
        before = current;
        input = await change(current);
        const key = nameKey(input.displayName);
        if (key !== nameKey(current.displayName) && !claimed.has(key)) {
          await claimGroupName(deps, tenantId, input.displayName, current.groupId);
          claimed.set(key, input.displayName);
        }
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
  } finally {
    // Names claimed and not kept: all of them when the write failed, those a re-read made moot else.
    const kept = written ? nameKey(written.displayName) : undefined;
    for (const [key, displayName] of claimed) if (key !== kept) await releaseGroupName(store, tenantId, displayName, group.groupId, log);
  }
  if (!written) throw notFound('Group');
  if (!sameName(before.displayName, written.displayName)) await releaseGroupName(store, tenantId, before.displayName, written.groupId, log);
  await audit(store, log, {
    tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-changed',
    targetId: written.groupId,
    details: changeDetails(before, written),
    at: now(),
  });
  const adminGroupId = (await readTenant(store, tenantId))?.policy.entraAdminGroupId;
  if (isAdminGroup(before, adminGroupId) || isAdminGroup(written, adminGroupId)) {
    await reconcileRoles(deps, caller, touchedBy(before, written, named(before, input!)), log);
  }
  return written;
}

/** PUT /Groups/{id}: displayName, externalId and members replaced by the body's; every member before and after is reconciled. */
export async function replaceScimGroup(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const input = readGroupResource(resourceBody(body, GROUP_SCHEMA));
  const group = await existing(deps.store, caller, id);
  const named = (before: ScimGroupDoc) => [...before.members, ...input.members];
  return scimGroup(await writeGroup(deps, caller, group, () => input, named, log));
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

/**
 * The users a PATCH names: the values of its member operations (`members` with a list,
 * `members[value eq "…"]`). A replace of the members, or a remove of them all, names every
 * member before and after.
 */
function namedByPatch(operations: readonly ScimPatchOperation[], before: ScimGroupDoc, after: ScimGroupInput): string[] {
  const named: string[] = [];
  for (const operation of operations) {
    const path = operation.path?.trim() ?? '';
    if (!/^members(\[|$)/i.test(path)) continue;
    const value = 'value' in operation ? operation.value : undefined;
    if (operation.op === 'replace' || (path.toLowerCase() === 'members' && !Array.isArray(value))) {
      named.push(...before.members, ...after.members);
    }
    if (Array.isArray(value)) {
      for (const member of value) {
        const id = isPlainObject(member) ? attribute(member, 'value') : undefined;
        if (typeof id === 'string') named.push(id.trim());
      }
    }
    const filtered = /^members\[\s*value\s+eq\s+"([^"]*)"\s*\]$/i.exec(path);
    if (filtered) named.push(filtered[1]!.trim());
  }
  return named;
}

/** PATCH /Groups/{id}: members added and removed in batches, displayName replaced (patch.ts). */
export async function patchScimGroup(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const operations = patchOperations(body).map(memberValuesOnly);
  const group = await existing(deps.store, caller, id);
  const change = async (current: ScimGroupDoc) => {
    const view = scimGroup(current) as ScimResource & { schemas: string[] };
    return readGroupResource(await applyPatch(view, operations));
  };
  const named = (before: ScimGroupDoc, after: ScimGroupInput) => namedByPatch(operations, before, after);
  return scimGroup(await writeGroup(deps, caller, group, change, named, log));
}

/**
 * DELETE /Groups/{id}: the group goes. If it is an admin group, its members' roles are
 * reconciled as if it were empty first, and the group is deleted (conditionally on the ETag the
 * reconciliation saw) only when that succeeded: a failure leaves the group for the identity
 * provider's retry. A member batch racing the delete changes the ETag and the members are
 * reconciled again; after the delete they are once more, against the groups that remain.
 * The same id again is 404.
 */
export async function deleteScimGroup(deps: Deps, caller: ScimCaller, id: string, log: Logger): Promise<void> {
  const { store, now } = deps;
  const { tenantId } = caller;
  const group = await existing(store, caller, id);
  const adminGroupId = (await readTenant(store, tenantId))?.policy.entraAdminGroupId;
  const deleted = await writeOnLatest(
    group,
    async (current) => {
      if (isAdminGroup(current, adminGroupId)) await reconcileRoles(deps, caller, current.members, log, current.groupId);
      await store
        .container('accounts')
        .item(current.id, tenantId)
        .delete({ accessCondition: { type: 'IfMatch', condition: current._etag! } });
      return current;
    },
    (current) => readGroup(store, tenantId, current.groupId),
    GROUP_WRITE_ATTEMPTS,
  );
  if (!deleted) throw notFound('Group');
  await releaseGroupName(store, tenantId, deleted.displayName, deleted.groupId, log);
  await audit(store, log, {
    tenantId,
    actorId: scimActorId(caller.tokenId),
    action: 'scim.group-deleted',
    targetId: deleted.groupId,
    at: now(),
  });
  if (isAdminGroup(deleted, adminGroupId)) await reconcileRoles(deps, caller, deleted.members, log);
}

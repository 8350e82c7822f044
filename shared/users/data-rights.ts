import { pseudonymizeInAudit, type AuditRecord } from '../audit/audit.js';
import { jobPartition, type JobDoc } from '../jobs/jobs.js';
import { deleteUserTokenCache } from '../microsoft/token-cache.js';
import { deleteLink, readLink } from '../onedrive/links.js';
import { userCodeMissKey, userCodeMissRule } from '../oauth/approval.js';
import { forgetCounts } from '../rate-limit.js';
import type { Store } from '../store/store.js';
import { changeProfile, type ScanProfileDoc } from '../scans/profiles.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import { isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import { forgetUserPrintRights, userPrintRights } from '../tenants/user-print-rights.js';
import { eraseUserUsage } from '../usage/erasure.js';
import { userDays } from '../usage/reports.js';
import { eraseBadges, publicBadge, userBadges } from './badges.js';
import { deleteLoginRecords, exportedLogins } from './login-records.js';
import { publicUser, readUser, updateUser, USER_WRITE_ATTEMPTS, type UserDoc } from './users.js';

/**
 * Data subject rights (docs/data.md#data-subject-rights): everything stored about a user, as one document; and its
 * erasure. The list of places is one list, used by both, so an export shows exactly what an
 * erasure removes:
 *  - accounts: the user (profile, credential hashes, lockout, refresh-token families, the login
 *    history of a user stored before login records), their login records (login-records.ts),
 *    their username and email look-ups, their ID badges (badges.ts), their OneDrive link, scan profiles and SCIM groups naming them;
 *  - jobs: their whole partition;
 *  - deviceCodes: device codes answered as them, pending OneDrive consents;
 *  - rateLimits: their wrong-user-code counter;
 *  - usage: their counters and username in the tenant's day aggregates (the printers' stay);
 *  - audit: records naming them as actor or target (pseudonymised, not deleted: the trail stays).
 */

async function queryAll<T>(
  store: Store,
  container: 'jobs' | 'deviceCodes' | 'accounts' | 'audit',
  query: string,
  parameters: Record<string, string>,
  partitionKey?: string,
) {
  const { resources } = await store
    .container(container)
    .items.query<T & { id: string }>(
      { query, parameters: Object.entries(parameters).map(([name, value]) => ({ name: `@${name}`, value })) },
      partitionKey ? { partitionKey } : {},
    )
    .fetchAll();
  return resources;
}

/*
 * Each place is found from the tenant and user ids alone, never from the user item: an erasure
 * must also reach what outlives that item (an erasure cut short after it was deleted, a job or
 * OneDrive link written under the id by a request that raced the erasure).
 */
const userJobs = (store: Store, tenantId: string, userId: string) =>
  queryAll<JobDoc>(
    store,
    'jobs',
    'SELECT * FROM c WHERE c.pk = @pk',
    { pk: jobPartition(tenantId, userId) },
    jobPartition(tenantId, userId),
  );
/** Cross-partition (device codes are keyed by their own id); erasure and export are rare. */
const userCodes = (store: Store, tenantId: string, userId: string) =>
  queryAll<{ type: string; tenantId?: string }>(
    store,
    'deviceCodes',
    'SELECT * FROM c WHERE (c.subjectId = @userId OR c.userId = @userId) AND c.tenantId = @tenantId',
    { userId, tenantId },
  );
const profilesNaming = (store: Store, tenantId: string, userId: string) =>
  queryAll<ScanProfileDoc>(
    store,
    'accounts',
    "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'scan-profile' AND ARRAY_CONTAINS(c.userIds, @userId)",
    { tenantId, userId },
    tenantId,
  );
/**
 * The SCIM groups listing the user as a member (shared/scim/groups.ts): member lists are not
 * indexed, so the tenant's groups (few) are found by type and each is read and looked into.
 */
async function scimGroupsNaming(store: Store, tenantId: string, userId: string): Promise<{ id: string; groupId: string }[]> {
  const groups = await queryAll<{ id: string }>(
    store,
    'accounts',
    "SELECT c.id FROM c WHERE c.tenantId = @tenantId AND c.type = 'scim-group'",
    { tenantId },
    tenantId,
  );
  const naming: { id: string; groupId: string }[] = [];
  for (const { id } of groups) {
    const { resource } = await store.container('accounts').item(id, tenantId).read<{ groupId: string; members: string[] }>();
    if (resource?.members.includes(userId)) naming.push({ id, groupId: resource.groupId });
  }
  return naming;
}
const auditNaming = (store: Store, tenantId: string, userId: string) =>
  queryAll<AuditRecord>(
    store,
    'audit',
    'SELECT * FROM c WHERE c.tenantId = @tenantId AND (c.actorId = @userId OR c.targetId = @userId)',
    { tenantId, userId },
    tenantId,
  );

export async function exportUser(store: Store, user: UserDoc) {
  const [logins, jobs, link, codes, profiles, groups, auditRecords, usage, printRights, badges] = await Promise.all([
    exportedLogins(store, user),
    userJobs(store, user.tenantId, user.id),
    readLink(store, user.tenantId, user.id),
    userCodes(store, user.tenantId, user.id),
    profilesNaming(store, user.tenantId, user.id),
    scimGroupsNaming(store, user.tenantId, user.id),
    auditNaming(store, user.tenantId, user.id),
    userDays(store, user.tenantId, user.id),
    userPrintRights(store, user.tenantId, user.id),
    userBadges(store, user.tenantId, user.id),
  ]);
  return {
    exportedFor: user.id,
    profile: { ...publicUser(user), lockout: user.lockout },
    // Newest first: the login records, and any history stored inside the user before them.
    logins,
    // The Microsoft Entra ID person the user is (entra-identity.ts); their tokens stay sealed and out of the export.
    microsoft: user.entra ? { tid: user.entra.tid, oid: user.entra.oid } : null,
    grants: user.refreshFamilies.map(({ id, clientId, scope, createdAt, lastUsedAt, expiresAt }) => ({
      id,
      clientId,
      scope,
      createdAt,
      lastUsedAt,
      expiresAt,
    })),
    // Each job's printed figures (`printed`) are on the job; `usage` is what the aggregates hold of them, per UTC day.
    jobs: jobs.map((job) => withoutSystemProperties(job)),
    usage,
    // Their own entry in the tenant's print rights, if an admin gave them one (their role's rights are the tenant's).
    printRights: printRights ?? null,
    // Id, label and dates only: the number is stored nowhere, and its keyed hash says nothing to the person (docs/data.md#badges).
    badges: badges.map(publicBadge),
    onedrive: link
      ? {
          status: link.status,
          connectedAt: link.connectedAt,
          updatedAt: link.updatedAt,
          printFolderId: link.printFolderId,
          scanFolderId: link.scanFolderId,
          // Sealed: on the link itself before OneDrive used MSAL, in the user's MSAL cache since (the link names its account).
          refreshTokenStored: Boolean(link.refreshToken ?? link.account),
        }
      : null,
    deviceCodes: codes.map(({ id, type }) => ({ id, type })),
    scanProfiles: profiles.map(({ id }) => id.replace(/^scan-profile:/, '')),
    scimGroups: groups.map(({ groupId }) => groupId),
    audit: auditRecords.map((record) => withoutSystemProperties(record)),
  };
}

export interface ErasureCounts {
  readonly jobs: number;
  readonly loginRecords: number;
  readonly deviceCodes: number;
  readonly scanProfiles: number;
  readonly auditRecords: number;
  readonly onedriveLinks: number;
  readonly scimGroups: number;
  /** Day aggregates the user's figures were taken out of. */
  readonly usageDays: number;
  /** The user's own entry in the tenant's print rights (0 or 1). */
  readonly printRights: number;
  /** Their ID badges (badges.ts). */
  readonly badges: number;
}

/** 1 when the write was made, 0 when the item was gone already (a racing erasure, a cancel): erasure is idempotent. */
const ifStillThere = (work: Promise<unknown>) =>
  work.then(
    () => 1,
    (error: unknown) => {
      if (isNotFound(error)) return 0;
      throw error;
    },
  );

async function eraseEach<T>(items: readonly T[], erase: (item: T) => Promise<number>): Promise<number> {
  let erased = 0;
  for (const item of items) erased += await erase(item);
  return erased;
}

/** Off a scan profile, on top of an admin's edit racing the erasure (an unconditional write would undo it). */
async function leaveProfile(store: Store, profile: ScanProfileDoc, userId: string): Promise<number> {
  const left = await changeProfile(store, profile, (current) => ({ ...current, userIds: current.userIds.filter((id) => id !== userId) }));
  return left ? 1 : 0;
}

/**
 * Off a SCIM group's members, conditionally on its ETag: a member batch of the identity provider
 * racing the erasure makes it read the group again and remove the id from what is there now.
 */
async function leaveScimGroup(store: Store, tenantId: string, groupId: string, userId: string): Promise<number> {
  type Group = { id: string; members: string[]; _etag?: string };
  const read = async () => (await store.container('accounts').item(groupId, tenantId).read<Group>()).resource;
  const first = await read();
  if (!first) return 0;
  const left = await writeOnLatest(
    first,
    async (current) => {
      if (!current.members.includes(userId)) return 0;
      await replaceIfUnchanged(
        store.container('accounts'),
        { ...current, members: current.members.filter((id) => id !== userId) },
        tenantId,
      );
      return 1;
    },
    read,
    USER_WRITE_ATTEMPTS,
  );
  return left ?? 0;
}

/**
 * The user item goes last, conditionally on its ETag: a sign-in or refresh that writes it first
 * (412) makes the erasure read it again and delete what is there now. One request per try, so
 * that traffic on the account cannot outpace it.
 */
async function deleteUserItem(store: Store, user: UserDoc): Promise<void> {
  await writeOnLatest(
    user,
    (current) =>
      store
        .container('accounts')
        .item(current.id, current.tenantId)
        .delete({ accessCondition: { type: 'IfMatch', condition: current._etag! } }),
    (current) => readUser(store, current.tenantId, current.id),
    USER_WRITE_ATTEMPTS,
  );
}

/**
 * The username and email look-ups that name the user, found by id rather than read off the
 * user item: after the item is gone (also when an erasure was cut short, or a rename raced it)
 * none may stay claimed by an erased id. Each goes only while it still names them.
 */
async function releaseLoginNames(store: Store, tenantId: string, userId: string): Promise<number> {
  const names = await queryAll<{ _etag: string }>(
    store,
    'accounts',
    // Microsoft users' (tid, oid) look-ups (entra-identity.ts), SCIM externalIds (external-id.ts) and PIN index entries (pin-index.ts) too.
    "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type IN ('login-name', 'entra-identity', 'scim-external', 'pin-index') AND c.userId = @userId",
    { tenantId, userId },
    tenantId,
  );
  let released = 0;
  for (const name of names) {
    released += await store
      .container('accounts')
      .item(name.id, tenantId)
      .delete({ accessCondition: { type: 'IfMatch', condition: name._etag } })
      .then(
        () => 1,
        (error: unknown) => {
          if (!isNotFound(error) && !isPreconditionFailed(error)) throw error;
          return 0; // gone, or claimed anew meanwhile
        },
      );
  }
  return released;
}

/**
 * Erases the user and everything that names them; undefined when there was nothing to erase
 * (erasure is idempotent: run again, it finds nothing). Their refresh tokens die first (the
 * families are emptied, on top of any sign-in or refresh racing it), the user item goes last:
 * an erasure cut short can simply be run again. Without a user item, everything keyed by the
 * ids is still looked for and erased: a second DELETE cleans up what the first one could not.
 */
export async function eraseUser(store: Store, tenantId: string, userId: string, now: Date): Promise<ErasureCounts | undefined> {
  const found = await readUser(store, tenantId, userId);
  const user = found && (await updateUser(store, found, (current) => ({ ...current, refreshFamilies: [] })));

  const [jobs, codes, profiles, groups] = await Promise.all([
    userJobs(store, tenantId, userId),
    userCodes(store, tenantId, userId),
    profilesNaming(store, tenantId, userId),
    scimGroupsNaming(store, tenantId, userId),
  ]);
  const counts: Omit<ErasureCounts, 'loginRecords' | 'usageDays' | 'printRights' | 'badges'> = {
    jobs: await eraseEach(jobs, (job) => ifStillThere(store.container('jobs').item(job.id, job.pk).delete())),
    deviceCodes: await eraseEach(codes, (code) => ifStillThere(store.container('deviceCodes').item(code.id, code.id).delete())),
    scanProfiles: await eraseEach(profiles, (profile) => leaveProfile(store, profile, userId)),
    scimGroups: await eraseEach(groups, (group) => leaveScimGroup(store, tenantId, group.id, userId)),
    onedriveLinks: (await deleteLink(store, tenantId, userId)) ? 1 : 0,
    auditRecords: await pseudonymizeInAudit(store, tenantId, userId),
  };
  await forgetCounts(store, userCodeMissKey(tenantId, userId), userCodeMissRule, now);
  if (user) await deleteUserItem(store, user);
  // A OneDrive callback that wrote its link between the delete above and the user item's end
  // found the user still there; now that the user is gone, its link goes too (the callback
  // checks the user after writing, so after this no link can stay behind).
  const lateLink = user ? await deleteLink(store, tenantId, userId) : false;
  // A Microsoft user's sealed MSAL cache (their Entra refresh token): after the user item, so a
  // sign-in racing the erasure cannot leave one behind for a user who is gone.
  const msalCache = await deleteUserTokenCache(store, tenantId, userId);
  // An erasure cut short after the user item went is finished by this run: it is audited then.
  const names = await releaseLoginNames(store, tenantId, userId);
  // After the user item: a sign-in read the user before it went may still record its attempt
  // (one create, no user write) until then; found by the ids, as everything else here.
  const loginRecords = await deleteLoginRecords(store, tenantId, userId);
  // After their jobs went: no job of theirs is left whose figures a late sweep could add back.
  const usageDays = await eraseUserUsage(store, tenantId, userId);
  const printRights = await forgetUserPrintRights(store, tenantId, userId);
  // After the user item, as the login names: a badge registered by a request that read the user
  // before it went is found here (and registerBadge takes back one written after this).
  const badges = await eraseBadges(store, tenantId, userId);
  const erased = { ...counts, loginRecords, usageDays, printRights, badges, onedriveLinks: counts.onedriveLinks + (lateLink ? 1 : 0) };
  return user || names > 0 || msalCache || Object.values(erased).some((n) => n > 0) ? erased : undefined;
}

import { pseudonymizeInAudit, type AuditRecord } from '../audit/audit.js';
import { jobPartition, type JobDoc } from '../jobs/jobs.js';
import { deleteLink, readLink } from '../onedrive/links.js';
import { userCodeMissKey } from '../oauth/approval.js';
import type { Store } from '../store/store.js';
import { isNotFound } from '../store/cosmos-errors.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import { publicUser, readUser, releaseLoginName, replaceUser, type UserDoc } from './users.js';

/**
 * Data subject rights (SPEC §3.11): everything stored about a user, as one document; and its
 * erasure. The list of places is one list, used by both, so an export shows exactly what an
 * erasure removes:
 *  - accounts: the user (profile, credential hashes, lockout, login history, refresh-token
 *    families), their username and email look-ups, their OneDrive link, scan profiles naming them;
 *  - jobs: their whole partition;
 *  - deviceCodes: device codes answered as them, pending OneDrive consents;
 *  - rateLimits: their wrong-user-code counter;
 *  - audit: records naming them as actor or target (pseudonymised, not deleted: the trail stays).
 */

async function queryAll<T>(store: Store, container: 'jobs' | 'deviceCodes' | 'accounts' | 'audit', query: string, parameters: Record<string, string>, partitionKey?: string) {
  const { resources } = await store
    .container(container)
    .items.query<T & { id: string }>(
      { query, parameters: Object.entries(parameters).map(([name, value]) => ({ name: `@${name}`, value })) },
      partitionKey ? { partitionKey } : {},
    )
    .fetchAll();
  return resources;
}

const userJobs = (store: Store, user: UserDoc) =>
  queryAll<JobDoc>(store, 'jobs', 'SELECT * FROM c WHERE c.pk = @pk', { pk: jobPartition(user.tenantId, user.id) }, jobPartition(user.tenantId, user.id));
/** Cross-partition (device codes are keyed by their own id); erasure and export are rare. */
const userCodes = (store: Store, user: UserDoc) =>
  queryAll<{ type: string; tenantId?: string }>(
    store,
    'deviceCodes',
    'SELECT * FROM c WHERE (c.subjectId = @userId OR c.userId = @userId) AND c.tenantId = @tenantId',
    { userId: user.id, tenantId: user.tenantId },
  );
const profilesNaming = (store: Store, user: UserDoc) =>
  queryAll<{ userIds: string[]; tenantId: string }>(
    store,
    'accounts',
    "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'scan-profile' AND ARRAY_CONTAINS(c.userIds, @userId)",
    { tenantId: user.tenantId, userId: user.id },
    user.tenantId,
  );
const auditNaming = (store: Store, user: UserDoc) =>
  queryAll<AuditRecord>(store, 'audit', 'SELECT * FROM c WHERE c.tenantId = @tenantId AND (c.actorId = @userId OR c.targetId = @userId)', { tenantId: user.tenantId, userId: user.id }, user.tenantId);

export async function exportUser(store: Store, user: UserDoc) {
  const [jobs, link, codes, profiles, auditRecords] = await Promise.all([
    userJobs(store, user),
    readLink(store, user.tenantId, user.id),
    userCodes(store, user),
    profilesNaming(store, user),
    auditNaming(store, user),
  ]);
  return {
    exportedFor: user.id,
    profile: { ...publicUser(user), lockout: user.lockout },
    logins: user.logins,
    grants: user.refreshFamilies.map(({ id, clientId, scope, createdAt, lastUsedAt, expiresAt }) => ({ id, clientId, scope, createdAt, lastUsedAt, expiresAt })),
    jobs: jobs.map((job) => withoutSystemProperties(job)),
    onedrive: link
      ? { status: link.status, connectedAt: link.connectedAt, updatedAt: link.updatedAt, printFolderId: link.printFolderId, scanFolderId: link.scanFolderId, refreshTokenStored: Boolean(link.refreshToken) }
      : null,
    deviceCodes: codes.map(({ id, type }) => ({ id, type })),
    scanProfiles: profiles.map(({ id }) => id.replace(/^scan-profile:/, '')),
    audit: auditRecords.map((record) => withoutSystemProperties(record)),
  };
}

export interface ErasureCounts {
  readonly jobs: number;
  readonly deviceCodes: number;
  readonly scanProfiles: number;
  readonly auditRecords: number;
  readonly onedriveLinks: number;
}

const deleteIfThere = (work: Promise<unknown>) =>
  work.then(
    () => 1,
    (error: unknown) => {
      if (isNotFound(error)) return 0;
      throw error;
    },
  );

/**
 * Erases the user and everything that names them; undefined if there is no such user (erasure
 * is idempotent). Their refresh tokens die first (the families are emptied), the user item goes
 * last: an erasure cut short can simply be run again.
 */
export async function eraseUser(store: Store, tenantId: string, userId: string): Promise<ErasureCounts | undefined> {
  let user = await readUser(store, tenantId, userId);
  if (!user) return undefined;
  user = await replaceUser(store, { ...user, refreshFamilies: [] });

  const [jobs, codes, profiles] = await Promise.all([userJobs(store, user), userCodes(store, user), profilesNaming(store, user)]);
  for (const job of jobs) await deleteIfThere(store.container('jobs').item(job.id, job.pk).delete());
  for (const code of codes) await deleteIfThere(store.container('deviceCodes').item(code.id, code.id).delete());
  for (const profile of profiles) {
    await store.container('accounts').item(profile.id, tenantId).replace({ ...withoutSystemProperties(profile), userIds: profile.userIds.filter((id) => id !== userId) });
  }
  await deleteIfThere(store.container('rateLimits').item(userCodeMissKey(tenantId, userId), userCodeMissKey(tenantId, userId)).delete());
  const onedriveLinks = (await deleteLink(store, tenantId, userId)) ? 1 : 0;
  const auditRecords = await pseudonymizeInAudit(store, tenantId, userId);
  await releaseLoginName(store, tenantId, user.username);
  await releaseLoginName(store, tenantId, user.email);
  await deleteIfThere(store.container('accounts').item(userId, tenantId).delete());
  return { jobs: jobs.length, deviceCodes: codes.length, scanProfiles: profiles.length, auditRecords, onedriveLinks };
}

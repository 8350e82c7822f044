import type { JSONObject, OperationInput } from '@azure/cosmos';
import { observeBatch } from '../store/batch-outcome.js';
import { isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import type { TenantPolicy } from '../tenants/policy.js';
import { newId } from '../tokens/secrets.js';
import type { LoginRecord, UserDoc } from './users.js';

/**
 * A user's sign-ins (docs/data.md#login-records): one small item per attempt in the tenant's
 * `accounts` partition, beside the user, gone by itself when the tenant's `loginHistoryDays`
 * have passed (item TTL). Before issue 20 they were an array inside the user item, rewritten
 * with it on every sign-in; users stored that way keep their array (`UserDoc.logins`), read
 * until it ages out and never appended to again.
 */
export interface LoginRecordDoc extends LoginRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'login-record';
  readonly userId: string;
  /** Seconds; Cosmos deletes the item this long after its last write. */
  readonly ttl: number;
}

/** Sign-ins shown: the newest this many (the routes have always shown at most 50). */
export const LOGINS_SHOWN = 50;

/**
 * `sign-in:<random>`: never `login:` (username and email look-ups, users.ts loginNameId), and
 * unique per attempt, so two attempts at once both create theirs. The user is named by `userId`
 * (indexed), not in the id: every byte of the item is written on every sign-in.
 */
export const loginRecordId = () => `sign-in:${newId()}`;

/** How long a record lives: the tenant's login history period (a policy shortened later still applies at read). */
export const loginRecordTtl = (policy: TenantPolicy) => policy.loginHistoryDays * 86_400;

export function loginRecordItem(user: Pick<UserDoc, 'id' | 'tenantId'>, record: LoginRecord, policy: TenantPolicy): LoginRecordDoc {
  return {
    id: loginRecordId(),
    tenantId: user.tenantId,
    type: 'login-record',
    userId: user.id,
    ...record,
    ttl: loginRecordTtl(policy),
  };
}

/** One create: the attempt recorded, the user item untouched. */
export async function writeLoginRecord(store: Store, user: Pick<UserDoc, 'id' | 'tenantId'>, record: LoginRecord, policy: TenantPolicy) {
  await store.container('accounts').items.create(loginRecordItem(user, record, policy));
}

/** An error with the status a failed batch operation had, as the SDK puts it on `code` (cosmos-errors.ts reads it). */
class BatchOperationFailed extends Error {
  constructor(readonly code: number) {
    super(`a batch operation failed with ${code}`);
  }
}

/**
 * The user replaced (only if unchanged since read: its ETag) and the attempt recorded, in one
 * transactional batch: both items live in the tenant's partition, so this is one request and
 * all or nothing. A 412 (someone wrote the user first) or 404 (the user is gone) is thrown
 * with that code, as a plain replace would; the record is then not written either.
 */
export async function replaceUserWithLoginRecord(store: Store, user: UserDoc, record: LoginRecord, policy: TenantPolicy): Promise<UserDoc> {
  // Cosmos's own properties (`_rid`, `_self`, `_ts`...) are set by the service: not sent (~140 bytes less).
  const { _etag } = user;
  const body = withoutSystemProperties(user);
  const operations: OperationInput[] = [
    {
      operationType: 'Replace',
      id: user.id,
      partitionKey: user.tenantId,
      resourceBody: body as unknown as JSONObject,
      ...(_etag ? { ifMatch: _etag } : {}),
    },
    // The batch names the partition; a create takes it from the item (a replace must name it).
    { operationType: 'Create', resourceBody: { ...loginRecordItem(user, record, policy) } },
  ];
  const { outcome, result: response, error } = await observeBatch(() => store.container('accounts').items.batch(operations, user.tenantId));
  if (error) {
    // What a single write would have thrown: the store's own error (503), or the status on `code`.
    if (outcome.error !== undefined) throw outcome.error;
    if (outcome.status !== undefined && outcome.status >= 400) throw new BatchOperationFailed(outcome.status);
    throw error;
  }
  const result = response?.result;
  // Azure answers a failed atomic batch with the failing operation's status (the SDK throws it);
  // the local server answers 200 with each operation's status: either way the first real failure counts.
  const failed = result?.find((operation) => operation.statusCode >= 400 && operation.statusCode !== 424);
  if (failed || !result?.[0]?.resourceBody) throw new BatchOperationFailed(failed?.statusCode ?? 500);
  return result[0].resourceBody as unknown as UserDoc;
}

/** The user's records, newest first, at most `limit`: one query in the tenant's partition (indexed: type, userId, at). */
export async function readLoginRecords(store: Store, tenantId: string, userId: string, limit = LOGINS_SHOWN): Promise<LoginRecordDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<LoginRecordDoc>(
      {
        query:
          "SELECT TOP @limit * FROM c WHERE c.tenantId = @tenantId AND c.type = 'login-record' AND c.userId = @userId ORDER BY c.at DESC",
        parameters: [
          { name: '@limit', value: limit },
          { name: '@tenantId', value: tenantId },
          { name: '@userId', value: userId },
        ],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources;
}

/** Whether anyone ever signed in (or tried to) as the user: the newest record, or the array of a user stored before records. */
export async function hasSignedIn(store: Store, user: UserDoc): Promise<boolean> {
  if ((user.logins?.length ?? 0) > 0) return true;
  return (await readLoginRecords(store, user.tenantId, user.id, 1)).length > 0;
}

const withoutItemFields = ({ at, clientId, success, method, ip }: LoginRecord): LoginRecord => ({
  at,
  clientId,
  success,
  method,
  ...(ip !== undefined ? { ip } : {}),
});

/**
 * The sign-ins the tenant's policy keeps, newest first, at most LOGINS_SHOWN: records and the
 * array of a user stored before them, merged; none older than its days (TTL removes them in
 * Azure, the local server keeps them: this filter is the rule), IP addresses only if it keeps them.
 */
export async function keptLogins(store: Store, user: UserDoc, policy: TenantPolicy, now: Date): Promise<LoginRecord[]> {
  const since = now.getTime() - policy.loginHistoryDays * 86_400_000;
  const records = await readLoginRecords(store, user.tenantId, user.id);
  return [...records.map(withoutItemFields), ...(user.logins ?? [])]
    .filter((login) => Date.parse(login.at) >= since)
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, LOGINS_SHOWN)
    .map(({ ip, ...login }) => (policy.loginHistoryKeepsIp && ip ? { ...login, ip } : login));
}

/** Every record of the user, for export and erasure: the id only, or whole (export). */
export async function allLoginRecords(store: Store, tenantId: string, userId: string): Promise<LoginRecordDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<LoginRecordDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'login-record' AND c.userId = @userId",
        parameters: [
          { name: '@tenantId', value: tenantId },
          { name: '@userId', value: userId },
        ],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources;
}

/** What the export shows of the user's sign-ins: records and any array from before them, newest first. */
export async function exportedLogins(store: Store, user: UserDoc): Promise<LoginRecord[]> {
  const records = await allLoginRecords(store, user.tenantId, user.id);
  return [...records.map(withoutItemFields), ...(user.logins ?? [])].sort((a, b) => b.at.localeCompare(a.at));
}

/** Erasure: every record of the user deleted (found by the ids alone, so also after the user item is gone). */
export async function deleteLoginRecords(store: Store, tenantId: string, userId: string): Promise<number> {
  let deleted = 0;
  for (const { id } of await allLoginRecords(store, tenantId, userId)) {
    deleted += await store
      .container('accounts')
      .item(id, tenantId)
      .delete()
      .then(
        () => 1,
        (error: unknown) => {
          if (isNotFound(error)) return 0;
          throw error;
        },
      );
  }
  return deleted;
}

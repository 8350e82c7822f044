import { Type } from '@sinclair/typebox';
import type { Logger } from '../logging/logger.js';
import { queryPage, type PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import { newId } from '../tokens/secrets.js';

/**
 * The tenant's audit log of admin actions (docs/data.md#audit-log-audit): who (an id), what, when, on what (an
 * id). Details hold field names and counts, never values a person typed: no names, emails,
 * PINs or file names. Kept for a year (item TTL).
 */
export const AUDIT_ACTIONS = [
  'tenant.policy-changed',
  'tenant.entra-bound',
  'tenant.scim-token-created',
  'tenant.scim-token-revoked',
  'scim.user-created',
  'scim.user-changed',
  'scim.user-deactivated',
  'scim.user-reactivated',
  'scim.group-created',
  'scim.group-changed',
  'scim.group-deleted',
  'user.created',
  'user.changed',
  'user.credentials-set',
  'user.pin-reset',
  'user.badge-added',
  'user.badge-removed',
  'user.erased',
  'device.enrolled',
  'device.changed',
  'device.disconnected',
  'scan-profile.created',
  'scan-profile.changed',
  'scan-profile.deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditDetails = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/**
 * Who acts: an admin, by ids (a UserPrincipal is one). The use case that makes a change writes
 * its record (shared/users/admin.ts, tenants/tenants.ts, devices/, scans/profiles.ts), so no
 * door to it can forget the record.
 */
export interface Actor {
  readonly tenantId: string;
  readonly userId: string;
}

/** The actor id of a change made over SCIM: the token's id, which the admin sees in the token list. */
export const scimActorId = (tokenId: string) => `scim-token:${tokenId}`;

export interface AuditRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'audit';
  readonly at: string;
  /**
   * The admin's user id (`erased-user` once that user is erased), or `scim-token:<id>` for a
   * change the tenant's identity provider made with that SCIM token (scimActorId).
   */
  readonly actorId: string;
  readonly action: AuditAction;
  readonly targetId?: string;
  readonly details?: AuditDetails;
  readonly ttl: number;
}

export const AUDIT_RETENTION_SECONDS = 365 * 86400;
/** What an erased user's id becomes in the audit log: the record stays, the person goes. */
export const ERASED_USER = 'erased-user';

export const AuditRecordSchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actorId: Type.String(),
  action: Type.String(),
  targetId: Type.Optional(Type.String()),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

/**
 * Writes one record. The change it describes is already made: a failed audit write is logged
 * (by ids) and does not undo it.
 */
export async function audit(
  store: Store,
  log: Logger,
  entry: { tenantId: string; actorId: string; action: AuditAction; targetId?: string; details?: AuditDetails; at: Date },
): Promise<void> {
  const record: AuditRecord = {
    id: newId(),
    tenantId: entry.tenantId,
    type: 'audit',
    at: entry.at.toISOString(),
    actorId: entry.actorId,
    action: entry.action,
    ...(entry.targetId ? { targetId: entry.targetId } : {}),
    ...(entry.details ? { details: entry.details } : {}),
    ttl: AUDIT_RETENTION_SECONDS,
  };
  try {
    await store.container('audit').items.create(record);
  } catch (error) {
    log.error('audit-write-failed', { action: entry.action, actorId: entry.actorId, error: (error as Error)?.name });
  }
}

export function publicAuditRecord({ id, at, actorId, action, targetId, details }: AuditRecord) {
  return { id, at, actorId, action, ...(targetId ? { targetId } : {}), ...(details ? { details } : {}) };
}

/** Which records a listing keeps: one action, and/or a time window (`from` inclusive, `to` exclusive, ISO 8601 UTC). */
export interface AuditFilter {
  readonly action?: AuditAction;
  readonly from?: Date;
  readonly to?: Date;
}

/**
 * Newest first, a page at a time, in the tenant's partition. The time window is a range on `at`,
 * the sort order's own path, so Cosmos reads only the records inside it. One action is an
 * equality on `action` served by the composite index (action ascending, at descending;
 * shared/store/containers.ts): the query sorts by `action` first, which changes nothing as every
 * record kept has the same action, so Cosmos can read that action's records in time order from the
 * index. Without it Cosmos would walk the tenant's records newest first and test each one, and a
 * rare action would cost a page of reads for every record between two of its own.
 */
export function listAudit(store: Store, tenantId: string, page: PageRequest, filter: AuditFilter = {}) {
  const conditions = ['c.tenantId = @tenantId'];
  const parameters: { name: string; value: string }[] = [{ name: '@tenantId', value: tenantId }];
  if (filter.action) {
    conditions.push('c.action = @action');
    parameters.push({ name: '@action', value: filter.action });
  }
  // `at` is written by toISOString (always UTC, milliseconds, Z), so strings compare as times.
  if (filter.from) {
    conditions.push('c.at >= @from');
    parameters.push({ name: '@from', value: filter.from.toISOString() });
  }
  if (filter.to) {
    conditions.push('c.at < @to');
    parameters.push({ name: '@to', value: filter.to.toISOString() });
  }
  const order = filter.action ? 'c.action ASC, c.at DESC' : 'c.at DESC';
  const query = { query: `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY ${order}`, parameters };
  return queryPage<AuditRecord>(store.container('audit'), query, tenantId, page);
}

/** Erasure: the user's id leaves every record that names them, as actor or target. */
export async function pseudonymizeInAudit(store: Store, tenantId: string, userId: string): Promise<number> {
  const container = store.container('audit');
  const { resources } = await container.items
    .query<AuditRecord>(
      {
        query: 'SELECT * FROM c WHERE c.tenantId = @tenantId AND (c.actorId = @userId OR c.targetId = @userId)',
        parameters: [
          { name: '@tenantId', value: tenantId },
          { name: '@userId', value: userId },
        ],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  for (const record of resources) {
    await container.item(record.id, tenantId).replace({
      ...withoutSystemProperties(record),
      actorId: record.actorId === userId ? ERASED_USER : record.actorId,
      ...(record.targetId === userId ? { targetId: ERASED_USER } : {}),
    });
  }
  return resources.length;
}

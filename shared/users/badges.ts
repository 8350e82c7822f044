import type { JSONObject, OperationInput } from '@azure/cosmos';
import { Type } from '@sinclair/typebox';
import { audit, type Actor } from '../audit/audit.js';
import { Conflict, Invalid, NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { observeBatch } from '../store/batch-outcome.js';
import { isConflict, isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import { lookupHashes, type LookupHash } from '../tokens/lookup-keys.js';
import { newId } from '../tokens/secrets.js';
import { readUser } from './users.js';

/**
 * ID badges (docs/data.md#badges, docs/security.md#badges). A badge is one item in the tenant's
 * `accounts` partition whose id is the badge number's keyed hash (lookup-keys.ts) under the key
 * it was written with: `badge:<kid>:<hash>`. So a number is unique in the tenant because a second
 * create of the same id conflicts, and signing in with a badge is a point read per key. The
 * number itself is stored, logged and returned nowhere; the API names a badge by `badgeId`, a
 * random id that says nothing about the number.
 */
export interface BadgeDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'badge';
  readonly userId: string;
  /** The lookup key the id was hashed with; after a rotation, an item under an older kid is moved on its next use. */
  readonly kid: string;
  readonly badgeId: string;
  readonly label?: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

type BadgeServices = Pick<Services, 'store' | 'config' | 'now'>;

/** What a person may own: enough for a card, a spare and a phone's NFC pass, not a way to fill the partition. */
export const MAX_BADGES_PER_USER = 10;

/** Card readers send the number in hex or decimal; whitespace around it is the reader's, not the card's. */
const BADGE_NUMBER = /^[0-9A-Za-z]{4,64}$/;

export const BadgeNumberSchema = Type.String({
  minLength: 4,
  maxLength: 80,
  description: 'The number the card reader read: 4 to 64 letters and digits (hex or decimal), spaces around it ignored, case ignored.',
});
export const BadgeLabelSchema = Type.String({ minLength: 1, maxLength: 64, description: 'A name for the badge, e.g. "office card".' });
export const PublicBadgeSchema = Type.Object({
  id: Type.String(),
  label: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

/** The badge as the API and the export show it: never the number, nor its hash, nor the key id. */
export function publicBadge(badge: BadgeDoc) {
  return {
    id: badge.badgeId,
    ...(badge.label !== undefined ? { label: badge.label } : {}),
    createdAt: badge.createdAt,
    ...(badge.lastUsedAt !== undefined ? { lastUsedAt: badge.lastUsedAt } : {}),
  };
}

/** The number as hashed: trimmed and upper-case, so `04a1b2` and `04A1B2` are one badge. Undefined when it cannot be a badge. */
export function normalizeBadgeNumber(raw: string): string | undefined {
  const trimmed = raw.trim();
  return BADGE_NUMBER.test(trimmed) ? trimmed.toUpperCase() : undefined;
}

const itemId = ({ kid, hash }: LookupHash) => `badge:${kid}:${hash}`;

const hashesOf = (services: Pick<Services, 'config'>, tenantId: string, number: string) =>
  lookupHashes(services.config, 'badge', tenantId, number);

async function readBadgeItem(store: Store, tenantId: string, id: string): Promise<BadgeDoc | undefined> {
  const { resource } = await store.container('accounts').item(id, tenantId).read<BadgeDoc>();
  return resource?.type === 'badge' ? resource : undefined;
}

async function deleteIfThere(store: Store, tenantId: string, id: string): Promise<boolean> {
  return store
    .container('accounts')
    .item(id, tenantId)
    .delete()
    .then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
}

/** A badge's owner as found, and the step that moves the badge to the current key (see findBadgeOwner). */
export interface BadgeOwner {
  readonly userId: string;
  /**
   * For the caller to run after a SUCCESSFUL sign-in only: a badge found under an older key
   * (after a promotion) is moved to the current one, so the old key can be retired. Run before,
   * a known badge would cost more store requests than an unknown one during a rotation: an
   * oracle (docs/security.md#badges). Nothing to do (no request) for a badge under the current key.
   */
  rekey(): Promise<void>;
}

/**
 * The owner of a badge number in the tenant, or undefined. One point read per configured key,
 * all made whatever they find, so an unknown badge costs the store exactly what a known one does
 * (docs/security.md#badges); a malformed number is read for too. Writes nothing: moving a badge
 * found under an older key is `rekey`, the caller's step after a success.
 */
export async function findBadgeOwner(
  services: Pick<Services, 'store' | 'config'>,
  tenantId: string,
  badgeNumber: string,
): Promise<BadgeOwner | undefined> {
  const number = normalizeBadgeNumber(badgeNumber) ?? badgeNumber;
  const hashes = hashesOf(services, tenantId, number);
  const items = await Promise.all(hashes.map((hash) => readBadgeItem(services.store, tenantId, itemId(hash))));
  const found = items.findIndex((item) => item !== undefined);
  if (found < 0) return undefined;
  const badge = items[found]!;
  return {
    userId: badge.userId,
    rekey: found > 0 ? () => moveToCurrentKey(services.store, badge, hashes[0]!) : async () => undefined,
  };
}

/**
 * The old item deleted only if unchanged since read (its ETag) and the new one created, in one
 * transactional batch in the tenant's partition: all or nothing. So a badge removed meanwhile
 * (by an admin, or with its person's erasure) is not written back under the new key, and of two
 * sign-ins moving the same badge only one batch succeeds. A batch refused for either reason
 * (412/404 on the delete, 409 on the create) leaves things as the other writer left them; any
 * other failure is thrown (the caller treats the move as best effort).
 */
async function moveToCurrentKey(store: Store, old: BadgeDoc & { readonly _etag?: string }, current: LookupHash): Promise<void> {
  const moved = { ...withoutSystemProperties(old), id: itemId(current), kid: current.kid };
  const operations: OperationInput[] = [
    { operationType: 'Delete', id: old.id, partitionKey: old.tenantId, ...(old._etag ? { ifMatch: old._etag } : {}) },
    { operationType: 'Create', resourceBody: moved as unknown as JSONObject },
  ];
  const { outcome, result, error } = await observeBatch(() => store.container('accounts').items.batch(operations, old.tenantId));
  if (error) {
    if (outcome.error !== undefined) throw outcome.error;
    if (outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500) return; // refused: see above
    throw error;
  }
  // Azure answers a refused batch with the failing operation's status; the local server answers
  // 200 with each operation's own (login-records.ts): a refusal either way, nothing written.
  const failed = result?.result?.find((operation) => operation.statusCode >= 400 && operation.statusCode !== 424);
  if (failed && failed.statusCode >= 500) throw new Error(`moving a badge to the current key failed with ${failed.statusCode}`);
}

/**
 * Notes that the badge signed its owner in (`lastUsedAt`, shown to admins and in the export).
 * For the badge grant to call after a successful sign-in only: a failed one writes nothing here,
 * so this write says nothing an attacker could not learn from the token they got. Best effort.
 */
export async function recordBadgeUse(services: BadgeServices, tenantId: string, badgeNumber: string): Promise<void> {
  const number = normalizeBadgeNumber(badgeNumber);
  if (!number) return;
  const [current] = hashesOf(services, tenantId, number);
  await services.store
    .container('accounts')
    .item(itemId(current!), tenantId)
    .patch([{ op: 'set', path: '/lastUsedAt', value: services.now().toISOString() }])
    .catch(() => undefined);
}

/** The user's badges, oldest first (one query in the tenant's partition). */
export async function userBadges(store: Store, tenantId: string, userId: string): Promise<BadgeDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<BadgeDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'badge' AND c.userId = @userId",
        parameters: [
          { name: '@tenantId', value: tenantId },
          { name: '@userId', value: userId },
        ],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.badgeId.localeCompare(b.badgeId));
}

/** One answer whoever holds the number (the registrant themself, or anyone else): it names nobody. */
export class BadgeTaken extends Conflict {
  constructor() {
    super('this badge is already registered in your organization', { field: 'number' }, 'badge-taken');
  }
}

/**
 * Registers a badge number for the user. The create of its current-key item is the uniqueness
 * check (409 `badge-taken`), and an item under an older key not yet moved counts as taken too.
 * At most MAX_BADGES_PER_USER (two registrations racing for the same user may both pass the
 * count: the bound is a guard against filling the partition, not an exact quota). The user must
 * still exist once the item is written: an erasure that ran meanwhile takes the item back out.
 */
export async function registerBadge(
  services: BadgeServices,
  tenantId: string,
  userId: string,
  input: { readonly number: string; readonly label?: string },
): Promise<BadgeDoc> {
  const number = normalizeBadgeNumber(input.number);
  if (!number) {
    throw new Invalid('a badge number is 4 to 64 letters and digits', {
      errors: [{ pointer: '/body/number', detail: 'not a badge number' }],
    });
  }
  const label = input.label?.trim();
  const [current, ...older] = hashesOf(services, tenantId, number);
  const [olderItems, owned] = await Promise.all([
    Promise.all(older.map((hash) => readBadgeItem(services.store, tenantId, itemId(hash)))),
    userBadges(services.store, tenantId, userId),
  ]);
  // The cap first: once a person has 10 badges every number answers alike, so a session cannot
  // go on probing which numbers are registered (docs/security.md#badges).
  if (owned.length >= MAX_BADGES_PER_USER) {
    throw new Conflict(`a person may have at most ${MAX_BADGES_PER_USER} badges: remove one first`, { limit: MAX_BADGES_PER_USER });
  }
  if (olderItems.some((item) => item !== undefined)) throw new BadgeTaken();
  const badge: BadgeDoc = {
    id: itemId(current!),
    tenantId,
    type: 'badge',
    userId,
    kid: current!.kid,
    badgeId: newId(),
    ...(label ? { label } : {}),
    createdAt: services.now().toISOString(),
  };
  try {
    await services.store.container('accounts').items.create<BadgeDoc>(badge);
  } catch (error) {
    if (isConflict(error)) throw new BadgeTaken();
    throw error;
  }
  if (!(await readUser(services.store, tenantId, userId))) {
    await deleteIfThere(services.store, tenantId, badge.id);
    throw new NotFound('no such user');
  }
  return badge;
}

/** Removes one of the user's badges by its public id; NotFound when they have none by that id. */
export async function removeBadge(store: Store, tenantId: string, userId: string, badgeId: string): Promise<void> {
  const badge = (await userBadges(store, tenantId, userId)).find((b) => b.badgeId === badgeId);
  if (!badge || !(await deleteIfThere(store, tenantId, badge.id))) throw new NotFound('no such badge');
}

/** Every badge of the user, at erasure (data-rights.ts): found by the ids, so it works after the user item is gone. Returns the count. */
export async function eraseBadges(store: Store, tenantId: string, userId: string): Promise<number> {
  let erased = 0;
  for (const badge of await userBadges(store, tenantId, userId)) {
    if (await deleteIfThere(store, tenantId, badge.id)) erased += 1;
  }
  return erased;
}

/**
 * An admin's view and changes of a user's badges. The user may be deactivated (the directory
 * turned them off): their badges can still be listed and removed, and a deactivated user cannot
 * sign in with one anyway (the badge grant checks the account). Changes are audited with ids only.
 */
async function requireUser(store: Store, tenantId: string, userId: string): Promise<void> {
  if (!(await readUser(store, tenantId, userId))) throw new NotFound('no such user');
}

export async function listBadgesOf(store: Store, tenantId: string, userId: string): Promise<BadgeDoc[]> {
  await requireUser(store, tenantId, userId);
  return userBadges(store, tenantId, userId);
}

export async function addBadgeAsAdmin(
  services: BadgeServices,
  admin: Actor,
  userId: string,
  input: { readonly number: string; readonly label?: string },
  log: Logger,
): Promise<BadgeDoc> {
  await requireUser(services.store, admin.tenantId, userId);
  const badge = await registerBadge(services, admin.tenantId, userId, input);
  await audit(services.store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'user.badge-added',
    targetId: userId,
    details: { badgeId: badge.badgeId },
    at: services.now(),
  });
  return badge;
}

export async function removeBadgeAsAdmin(
  services: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  userId: string,
  badgeId: string,
  log: Logger,
): Promise<void> {
  await removeBadge(services.store, admin.tenantId, userId, badgeId);
  await audit(services.store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'user.badge-removed',
    targetId: userId,
    details: { badgeId },
    at: services.now(),
  });
}

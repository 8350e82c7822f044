import type { JSONObject, OperationInput } from '@azure/cosmos';
import { randomInt } from 'node:crypto';
import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { observeBatch } from '../store/batch-outcome.js';
import { isConflict, isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { withoutSystemProperties } from '../store/system-properties.js';
import { lookupHashes, type LookupHash } from '../tokens/lookup-keys.js';
import { readUser, type UserDoc } from './users.js';

/**
 * The PIN index (docs/security.md#pin-only-sign-in): one item per indexed PIN in the tenant's
 * accounts partition, its id the PIN's keyed hash (lookup-keys.ts), naming the user who holds
 * it. Creating it is the uniqueness check (a second create of the same id conflicts), and a
 * PIN-only sign-in finds the holder with point reads. The PIN itself is stored nowhere: the
 * user item keeps its argon2id hash, which still decides every sign-in.
 *
 * Only PINs Roger generates are indexed (random, so a collision is rare and is resolved by
 * drawing again, never by telling anyone the PIN is taken); a PIN a person chose is not, and a
 * change to it drops the user's entry. The user item names its current entry (`pinIndexId`), so a
 * PIN change drops exactly the entry it replaced.
 */
interface PinIndexDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'pin-index';
  readonly userId: string;
  readonly kid: string;
}

type IndexServices = Pick<Services, 'store' | 'config'>;

const indexId = ({ kid, hash }: LookupHash) => `pin:${kid}:${hash}`;

/** The PIN is held by someone else: the caller draws another (never shown to a person). */
export class PinTaken extends Error {
  constructor() {
    super('this PIN is held by another user');
  }
}

async function readEntry(store: Store, tenantId: string, id: string): Promise<PinIndexDoc | undefined> {
  const { resource } = await store.container('accounts').item(id, tenantId).read<PinIndexDoc>();
  return resource?.type === 'pin-index' ? resource : undefined;
}

/** A PIN's holder as the index names them, and the step that moves their entry to the current key. */
export interface PinOwner {
  readonly userId: string;
  /**
   * Called by the grant only after a SUCCESSFUL sign-in (the argon2id check passed): moving the
   * entry during the lookup would make a held PIN cost more store requests than an unknown one
   * while keys rotate, telling a guesser which PINs exist. Best effort; a no-op under the current key.
   */
  readonly rekey: () => Promise<void>;
}

/**
 * The user holding `pin` in the tenant's index, or undefined. One point read per configured key,
 * all of them made whatever they find, so a PIN nobody holds costs the same store work as a held
 * one (the caller then reads the decoy in place of the user: sign-in-decoy.ts). A hit under an
 * older key only (after a rotation) comes with a `rekey` that writes it under the current key.
 */
export async function findPinOwner(services: IndexServices, tenantId: string, pin: string): Promise<PinOwner | undefined> {
  const hashes = lookupHashes(services.config, 'pin', tenantId, pin);
  const entries = await Promise.all(hashes.map((hash) => readEntry(services.store, tenantId, indexId(hash))));
  const found = entries.findIndex((entry) => entry !== undefined);
  if (found < 0) return undefined;
  const entry = entries[found]!;
  const rekey = found > 0 ? () => moveToCurrentKey(services.store, entry, hashes[0]!) : async () => undefined;
  return { userId: entry.userId, rekey };
}

/** The outcome of a batch, whatever the server: Azure throws on a failed atomic batch, the local server answers 200 per operation. */
async function batchSucceeded(store: Store, tenantId: string, operations: OperationInput[]): Promise<boolean> {
  const { result, error } = await observeBatch(() => store.container('accounts').items.batch(operations, tenantId));
  if (error) return false;
  const statuses = result?.result?.map((operation) => operation.statusCode) ?? [];
  return statuses.length === operations.length && statuses.every((status) => status < 400);
}

/**
 * Moves the entry to the current key in ONE transactional batch in the tenant's partition: the old
 * entry deleted only if still there, the new one created, and the user item's
 * `pinIndexId` pointed at it only if the user is unchanged since read. So a removal or erasure in
 * between (the old entry gone, or the user changed) makes the whole move fail instead of
 * resurrecting the entry, and the user item always names the entry a later PIN change must drop.
 * Best effort: a failed move is tried again at the next sign-in.
 */
async function moveToCurrentKey(store: Store, old: PinIndexDoc, current: LookupHash): Promise<void> {
  const { tenantId, userId } = old;
  const user = await readUser(store, tenantId, userId).catch(() => undefined);
  if (!user || user.pinIndexId !== old.id || !user._etag) return;
  const id = indexId(current);
  const entry: PinIndexDoc = { id, tenantId, type: 'pin-index', userId, kid: current.kid };
  await batchSucceeded(store, tenantId, [
    // Entries are only ever created and deleted, so "still there" is "unchanged": a delete of one
    // gone fails the batch (404) just as an ETag condition would.
    { operationType: 'Delete', id: old.id, partitionKey: tenantId },
    { operationType: 'Create', resourceBody: { ...entry } },
    {
      operationType: 'Replace',
      id: userId,
      partitionKey: tenantId,
      resourceBody: { ...withoutSystemProperties(user), pinIndexId: id } as unknown as JSONObject,
      ifMatch: user._etag,
    },
  ]).catch(() => false);
}

/**
 * Claims `pin` for `userId`: the create of its current-key entry conflicts when it is taken, and
 * an entry under an older key (not yet moved) counts as taken too. Returns the entry's id. Throws
 * PinTaken when another user holds it; a PIN the user already holds is theirs again.
 */
export async function claimPin(services: IndexServices, tenantId: string, userId: string, pin: string): Promise<string> {
  const [current, ...older] = lookupHashes(services.config, 'pin', tenantId, pin);
  const olderEntries = await Promise.all(older.map((hash) => readEntry(services.store, tenantId, indexId(hash))));
  if (olderEntries.some((entry) => entry !== undefined && entry.userId !== userId)) throw new PinTaken();
  const id = indexId(current!);
  try {
    await services.store.container('accounts').items.create<PinIndexDoc>({ id, tenantId, type: 'pin-index', userId, kid: current!.kid });
  } catch (error) {
    if (!isConflict(error)) throw error;
    const holder = await readEntry(services.store, tenantId, id);
    if (holder?.userId !== userId) throw new PinTaken();
  }
  return id;
}

/** Random draws before giving up: with the density rule each draw is free with odds above 90 %. */
const DRAWS = 10;

const randomPin = (length: number) => Array.from({ length }, () => String(randomInt(10))).join('');

/**
 * A new random PIN of `length` digits, claimed in the index for `userId`. A draw someone holds
 * is thrown away and another drawn: nobody learns that a PIN exists. Returns the PIN and its
 * entry's id, for the user item's `pinIndexId` (withPinEntry).
 */
export async function drawIndexedPin(
  services: IndexServices,
  tenantId: string,
  userId: string,
  length: number,
): Promise<{ pin: string; entryId: string }> {
  for (let draw = 0; draw < DRAWS; draw += 1) {
    const pin = randomPin(length);
    try {
      return { pin, entryId: await claimPin(services, tenantId, userId, pin) };
    } catch (error) {
      if (!(error instanceof PinTaken)) throw error;
    }
  }
  throw new Conflict('no free PIN was found; raise the tenant’s PIN length (pinMinLength) and try again', { field: 'pin' });
}

/**
 * After a PIN change wrote the user item, drops the one entry that write replaced (the
 * `pinIndexId` the user held before, read inside the write applied to the latest user). Never
 * "every entry but mine": with two changes racing, that deletes the winner's entry. Best effort:
 * the new PIN is already the user's; an entry left behind names a PIN that no longer verifies.
 * Logs ids only (docs/security.md#pin-only-sign-in).
 */
export async function dropReplacedEntry(
  store: Store,
  log: Pick<Logger, 'warn'>,
  tenantId: string,
  replaced: string | undefined,
  kept: string | undefined,
): Promise<void> {
  if (replaced === undefined || replaced === kept) return;
  await store
    .container('accounts')
    .item(replaced, tenantId)
    .delete()
    .catch((error: unknown) => {
      if (!isNotFound(error)) log.warn('pin-index-release-failed', { tenantId, entryId: replaced });
    });
}

/**
 * Applies a PIN change to the user item (argon2id hash already made) with `pinIndexId` set to
 * the entry of the new PIN (undefined for a chosen PIN, which is never indexed), and returns the
 * entry id that write replaced. The id is captured in the change applied to the user as stored
 * at the write, so of racing changes each drops exactly what it replaced.
 */
export function withPinEntry(entryId: string | undefined, change: (current: UserDoc) => UserDoc) {
  let replaced: string | undefined;
  const apply = (current: UserDoc): UserDoc => {
    replaced = current.pinIndexId;
    const { pinIndexId: _dropped, ...rest } = change(current);
    return entryId === undefined ? rest : { ...rest, pinIndexId: entryId };
  };
  return { apply, replaced: () => replaced };
}

/** Gives a claimed entry back (the PIN change it was for failed). Best effort. */
export async function unclaimPin(store: Store, tenantId: string, entryId: string): Promise<void> {
  await store
    .container('accounts')
    .item(entryId, tenantId)
    .delete()
    .catch(() => undefined);
}

import { randomInt } from 'node:crypto';
import { Conflict } from '../errors.js';
import type { Services } from '../services.js';
import { isConflict, isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { lookupHashes, type LookupHash } from '../tokens/lookup-keys.js';

/**
 * The PIN index (docs/security.md#pin-only-sign-in): one item per indexed PIN in the tenant's
 * accounts partition, its id the PIN's keyed hash (lookup-keys.ts), naming the user who holds
 * it. Creating it is the uniqueness check (a second create of the same id conflicts), and a
 * PIN-only sign-in finds the holder with point reads. The PIN itself is stored nowhere: the
 * user item keeps its argon2id hash, which still decides every sign-in.
 *
 * Only PINs Roger generates are indexed (random, so a collision is rare and is resolved by
 * drawing again, never by telling anyone the PIN is taken); a PIN a person chose is not, and a
 * change to it removes the user's index items.
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

/**
 * The user holding `pin` in the tenant's index, or undefined. One point read per configured key,
 * all of them made whatever they find, so a PIN nobody holds costs the same store work as a held
 * one (the caller then reads the decoy in place of the user: sign-in-decoy.ts). A hit under an
 * older key only (after a rotation) is written again under the current key and the old entry
 * dropped, so lookups move to the current key as people sign in.
 */
export async function findPinOwner(services: IndexServices, tenantId: string, pin: string): Promise<string | undefined> {
  const hashes = lookupHashes(services.config, 'pin', tenantId, pin);
  const entries = await Promise.all(hashes.map((hash) => readEntry(services.store, tenantId, indexId(hash))));
  const found = entries.findIndex((entry) => entry !== undefined);
  if (found < 0) return undefined;
  const entry = entries[found]!;
  if (found > 0) await moveToCurrentKey(services.store, tenantId, entry, hashes[0]!);
  return entry.userId;
}

async function moveToCurrentKey(store: Store, tenantId: string, old: PinIndexDoc, current: LookupHash): Promise<void> {
  const accounts = store.container('accounts');
  try {
    await accounts.items.create<PinIndexDoc>({ id: indexId(current), tenantId, type: 'pin-index', userId: old.userId, kid: current.kid });
  } catch (error) {
    if (!isConflict(error)) throw error; // another sign-in moved it first
  }
  await accounts
    .item(old.id, tenantId)
    .delete()
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
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
 * entry's id (releasePinsOf keeps it once the user holds the PIN's hash).
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
 * Removes the user's index entries but `keep` (their current PIN's, when it is indexed): after a
 * PIN change, and at erasure (data-rights.ts deletes them with the login names). Best done after
 * the user item holds the new hash, so that a failure leaves at worst an entry whose PIN no longer
 * verifies (a sign-in with it fails the argon2id check).
 */
export async function releasePinsOf(store: Store, tenantId: string, userId: string, keep?: string): Promise<void> {
  const accounts = store.container('accounts');
  const { resources } = await accounts.items
    .query<{ id: string }>(
      {
        query: "SELECT c.id FROM c WHERE c.tenantId = @tenantId AND c.type = 'pin-index' AND c.userId = @userId",
        parameters: [
          { name: '@tenantId', value: tenantId },
          { name: '@userId', value: userId },
        ],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  for (const { id } of resources) {
    if (id === keep) continue;
    await accounts
      .item(id, tenantId)
      .delete()
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}

/** Gives a claimed entry back (the PIN change it was for failed). Best effort. */
export async function unclaimPin(store: Store, tenantId: string, entryId: string): Promise<void> {
  await store
    .container('accounts')
    .item(entryId, tenantId)
    .delete()
    .catch(() => undefined);
}

import type { Container, ItemDefinition, PartitionKey } from '@azure/cosmos';
import { isNotFound, isPreconditionFailed } from './cosmos-errors.js';
import { withoutSystemProperties } from './system-properties.js';

/**
 * Replaces an item only if nobody changed it since it was read (its `_etag`): of two racing
 * writers exactly one wins, the other gets a 412 (see isPreconditionFailed). Items without an
 * `_etag` (never read) are replaced unconditionally.
 */
export async function replaceIfUnchanged<T extends ItemDefinition & { readonly _etag?: string }>(
  container: Container,
  item: T & { readonly id: string },
  partitionKey: PartitionKey,
): Promise<T> {
  // Cosmos's own properties (`_rid`, `_self`, `_ts`, ...) are set by the service: sent back they
  // are only bytes on the wire (about 140 per write, docs/data.md#byte-budgets).
  const { _etag } = item;
  const body = withoutSystemProperties(item);
  const { resource } = await container
    .item(item.id, partitionKey)
    .replace<T>(body as T, _etag ? { accessCondition: { type: 'IfMatch', condition: _etag } } : undefined);
  return resource!;
}

/**
 * Deletes an item only if nobody changed it since it was read: of two racing callers (two
 * callbacks with one single-use state, say) exactly one gets true. False when another write or
 * delete came first (412, 404).
 */
export async function deleteIfUnchanged(
  container: Container,
  item: { readonly id: string; readonly _etag?: string },
  partitionKey: PartitionKey,
): Promise<boolean> {
  try {
    await container.item(item.id, partitionKey).delete({ accessCondition: { type: 'IfMatch', condition: item._etag! } });
    return true;
  } catch (error) {
    if (isPreconditionFailed(error) || isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Read-modify-write under optimistic concurrency: `write(current)` makes its conditional write;
 * when someone changed the item first (412), `reread` fetches what is there now and the write is
 * made again on top of it, so a race neither fails nor undoes the other writer's change. Ends
 * with undefined when `reread` does (the item is gone, or no longer needs this write), and when
 * the write itself finds the item gone (404: deleted between the read and the write, e.g. a user
 * erased while signing in); after `attempts` writes the last 412 is thrown.
 */
export async function writeOnLatest<T, R>(
  first: T,
  write: (current: T) => Promise<R>,
  reread: (current: T) => Promise<T | undefined>,
  attempts: number,
): Promise<R | undefined> {
  let current = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write(current);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (!isPreconditionFailed(error) || attempt >= attempts) throw error;
    }
    const latest = await reread(current);
    if (latest === undefined) return undefined;
    current = latest;
  }
}

import type { Container, ItemDefinition, PartitionKey } from '@azure/cosmos';

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
  const { _etag, ...body } = item;
  const { resource } = await container
    .item(item.id, partitionKey)
    .replace<T>(body as T, _etag ? { accessCondition: { type: 'IfMatch', condition: _etag } } : undefined);
  return resource!;
}

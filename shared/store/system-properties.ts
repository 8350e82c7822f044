/** Cosmos DB's own properties on every item read (`_etag`, `_rid`, `_self`, `_ts`, `_attachments`). */
type SystemProperty = '_etag' | '_rid' | '_self' | '_ts' | '_attachments';

/** An item without Cosmos's own properties: to export it, or to write it back unconditionally. */
export const withoutSystemProperties = <T extends object>(item: T) =>
  Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith('_'))) as Omit<T, SystemProperty>;

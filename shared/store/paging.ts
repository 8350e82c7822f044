import type { Container, SqlQuerySpec } from '@azure/cosmos';

/** A page request as the API takes it (SPEC §3.12). */
export interface PageRequest {
  readonly limit: number;
  readonly continuationToken?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly continuationToken: string | null;
}

/**
 * One page of a query in one partition, with Cosmos continuation tokens (the local server has
 * no OFFSET/LIMIT, and Azure charges for skipped items). The partition field must be in the
 * query's WHERE too: the local server ignores the partitionKey option.
 */
export async function queryPage<T>(container: Container, query: SqlQuerySpec, partitionKey: string, page: PageRequest): Promise<Page<T>> {
  const response = await container.items
    .query<T>(query, { partitionKey, maxItemCount: page.limit, ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}) })
    .fetchNext();
  return { items: response.resources, continuationToken: response.continuationToken ?? null };
}

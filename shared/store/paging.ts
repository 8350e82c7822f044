import type { Container, SqlQuerySpec } from '@azure/cosmos';
import { isBadRequest } from './cosmos-errors.js';

/** A page request as the API takes it (docs/api.md#conventions). */
export interface PageRequest {
  readonly limit: number;
  readonly continuationToken?: string;
}

/**
 * The caller's continuation token is not one Cosmos issued (made up, truncated, or edited): a
 * bad request of the caller's, not a failure of ours. The HTTP wrapper answers it with a 400.
 */
export class InvalidContinuationToken extends Error {
  constructor() {
    super('the continuation token is not valid');
    this.name = 'InvalidContinuationToken';
  }
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
  let response;
  try {
    response = await container.items
      .query<T>(query, {
        partitionKey,
        maxItemCount: page.limit,
        ...(page.continuationToken ? { continuationToken: page.continuationToken } : {}),
      })
      .fetchNext();
  } catch (error) {
    // Our queries are fixed; with a token, a 400 from Cosmos is about the token.
    if (page.continuationToken && isBadRequest(error)) throw new InvalidContinuationToken();
    throw error;
  }
  return { items: response.resources, continuationToken: response.continuationToken ?? null };
}

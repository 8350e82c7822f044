import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Cosmos DB requests made while serving one API call: what it cost, measured at the wire
 * (docs/data.md#what-a-call-costs). The request log line carries each field.
 */
export interface CosmosUsage {
  requests: number;
  /** Sum of the `x-ms-request-charge` headers (request units; the local server says 1 per request). */
  requestCharge: number;
  /** Response bodies, in bytes: items read, query pages, and the item a write sends back. */
  bytesRead: number;
  /** Request bodies, in bytes: the items created, replaced or upserted, patch operations, batches, query texts. */
  bytesWritten: number;
  /** Index terms the writes touch: the written items' leaf paths the container's policy indexes, plus `id` and `_ts`. */
  indexedPaths: number;
  /** What Azure would charge, estimated from the bytes (cosmos-cost.ts); the local server's charge says nothing. */
  ruEstimate: number;
}

/** One request's share of a CosmosUsage (the counting HTTP client measures it). */
export type CosmosRequestCost = Omit<CosmosUsage, 'requests'>;

const current = new AsyncLocalStorage<CosmosUsage>();

export const noCosmosUsage = (): CosmosUsage => ({
  requests: 0,
  requestCharge: 0,
  bytesRead: 0,
  bytesWritten: 0,
  indexedPaths: 0,
  ruEstimate: 0,
});

/** Runs `work` and counts every Cosmos request it makes, however deep in the call tree. */
export async function measureCosmosUsage<T>(work: () => Promise<T>): Promise<{ result: T; usage: CosmosUsage }> {
  const usage = noCosmosUsage();
  const result = await current.run(usage, work);
  return { result, usage };
}

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

/** Called by the store's HTTP client for every response from Cosmos. */
export function recordCosmosRequest(cost: CosmosRequestCost): void {
  const usage = current.getStore();
  if (!usage) return;
  usage.requests += 1;
  usage.requestCharge += finite(cost.requestCharge);
  usage.bytesRead += finite(cost.bytesRead);
  usage.bytesWritten += finite(cost.bytesWritten);
  usage.indexedPaths += finite(cost.indexedPaths);
  usage.ruEstimate += finite(cost.ruEstimate);
}

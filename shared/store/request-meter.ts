import { AsyncLocalStorage } from 'node:async_hooks';

/** Cosmos DB requests made while serving one API call: what it cost, measured at the wire. */
export interface CosmosUsage {
  requests: number;
  /** Sum of the `x-ms-request-charge` headers (request units). */
  requestCharge: number;
}

const current = new AsyncLocalStorage<CosmosUsage>();

/** Runs `work` and counts every Cosmos request it makes, however deep in the call tree. */
export async function measureCosmosUsage<T>(work: () => Promise<T>): Promise<{ result: T; usage: CosmosUsage }> {
  const usage: CosmosUsage = { requests: 0, requestCharge: 0 };
  const result = await current.run(usage, work);
  return { result, usage };
}

/** Called by the store's HTTP client for every response from Cosmos. */
export function recordCosmosRequest(requestCharge: number): void {
  const usage = current.getStore();
  if (!usage) return;
  usage.requests += 1;
  usage.requestCharge += Number.isFinite(requestCharge) ? requestCharge : 0;
}

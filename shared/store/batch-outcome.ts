import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the wire said to a transactional batch. The SDK (`Items.batch`, @azure/cosmos 4.x) turns
 * any failed batch into a plain `Error("Batch request error: ...")`, dropping its status: a 412
 * (the user changed since it was read) or a 503 from the store's HTTP client would both become
 * a 500. The store's HTTP client notes here the status of each batch response, or the error it
 * failed with, so the caller can throw what a single write would have thrown
 * (users/login-records.ts).
 */
export interface BatchOutcome {
  status?: number;
  error?: unknown;
}

const current = new AsyncLocalStorage<BatchOutcome>();

/** Runs `work` (one batch) and returns what its last HTTP exchange was, beside its result or error. */
export async function observeBatch<T>(work: () => Promise<T>): Promise<{ outcome: BatchOutcome; result?: T; error?: unknown }> {
  const outcome: BatchOutcome = {};
  try {
    return { outcome, result: await current.run(outcome, work) };
  } catch (error) {
    return { outcome, error };
  }
}

/** Called by the store's HTTP client for each batch request: its response status, or the error it failed with. */
export function noteBatchExchange(exchange: { status: number } | { error: unknown }): void {
  const outcome = current.getStore();
  if (!outcome) return;
  if ('status' in exchange) {
    outcome.status = exchange.status;
    delete outcome.error;
  } else {
    outcome.error = exchange.error;
  }
}

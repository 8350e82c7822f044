/**
 * Waiting before trying again (docs/clients.md#faults): exponential backoff with full jitter, so
 * a fleet of printers that lost the broker at the same moment does not come back at the same
 * moment either.
 */
export interface Backoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export const RECONNECT: Backoff = { firstMs: 500, maxMs: 30_000 };

/** The pause before try number `attempt` (0 = the first retry): random in [0, min(max, first·2^attempt)]. */
export function backoffDelay(attempt: number, backoff: Backoff = RECONNECT, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

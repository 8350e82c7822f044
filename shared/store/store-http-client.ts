import { isRestError, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';

/**
 * How long one HTTP request to Cosmos DB may take before the app gives up on it; the API then
 * answers 503 with `Retry-After` instead of holding its caller (a printer panel, a phone) until
 * the Functions host's own limit. Point reads and writes answer in milliseconds in-region, and
 * the service ends a long query execution early with a continuation token, so 5 s is far above
 * any healthy answer and short enough for a person waiting at a printer.
 *
 * The store's HTTP client enforces it, not the SDK's `connectionPolicy.requestTimeout` (left at
 * its 60 s default, never reached): the SDK turns its own timeout on a read into a "failover"
 * retry, up to 120 times with endpoint discovery on, even with a single region (measured:
 * a hung read took 121 timeouts). Our accounts are serverless, one region each; there is
 * nowhere to fail over to, so a timed-out request fails at once.
 */
export const COSMOS_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Cosmos DB did not answer in time, or could not be reached (connection refused or dropped, name
 * not resolved): the caller's cue to retry later, as with a 503 from the service. A dropped
 * connection keeps its code (ECONNRESET, EPIPE), so the SDK retries a read on it as it always
 * does (after 1 s; a stale keep-alive socket is the usual cause). Everything else (refused,
 * name not resolved, ...) gets a code no SDK policy retries, and fails at once: with endpoint
 * discovery on, the SDK would retry an unresolved name up to 120 times, 1 s apart, looking for
 * another region.
 */
export class StoreUnavailableError extends Error {
  constructor(
    readonly reason: 'timeout' | 'unreachable',
    readonly code: string,
  ) {
    super(reason === 'timeout' ? 'Cosmos DB did not answer in time' : `Cosmos DB could not be reached (${code})`);
    this.name = 'StoreUnavailableError';
  }
}

/** Network error codes the SDK's default policy retries for reads. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE']);

/** One abort signal for the SDK's own (its timeout, a caller's signal) and ours. */
function linkedAbort(request: PipelineRequest): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const outer = request.abortSignal;
  if (!outer) return { controller, unlink: () => undefined };
  const forward = () => controller.abort();
  if (outer.aborted) controller.abort();
  else outer.addEventListener('abort', forward);
  return { controller, unlink: () => outer.removeEventListener('abort', forward) };
}

/**
 * The SDK's HTTP client with the per-request timeout above, and network failures reported as
 * StoreUnavailableError (the HTTP wrapper answers those 503). Aborts the caller asked for
 * (`abortSignal` in the SDK's request options) pass through unchanged.
 */
export function withStoreFailures(inner: HttpClient, timeoutMs: number = COSMOS_REQUEST_TIMEOUT_MS): HttpClient {
  return {
    async sendRequest(request) {
      const { controller, unlink } = linkedAbort(request);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      const callerSignal = request.abortSignal;
      request.abortSignal = controller.signal;
      try {
        return await inner.sendRequest(request);
      } catch (error) {
        if (timedOut) throw new StoreUnavailableError('timeout', 'StoreRequestTimeout');
        // No HTTP answer at all (an answer, even an error status, is the SDK's to read).
        if (isRestError(error) && error.statusCode === undefined) {
          throw new StoreUnavailableError('unreachable', DROPPED.has(error.code ?? '') ? error.code! : 'StoreUnreachable');
        }
        throw error;
      } finally {
        clearTimeout(timer);
        unlink();
        request.abortSignal = callerSignal;
      }
    },
  };
}

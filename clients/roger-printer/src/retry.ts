import { backoffDelay, RECONNECT, sleep, type Backoff } from '@roger-cloud/client-kit/backoff';
import { isTransient, isFetchFailure } from '@roger-cloud/client-kit/http';
import { oauth } from '@roger-cloud/client-kit/oauth';

/**
 * Trying again when the API is away for a moment (docs/clients.md#faults): backoff with full
 * jitter, from ROGER_PRINTER_BACKOFF_MS (the first pause, default 500) up to
 * ROGER_PRINTER_BACKOFF_MAX_MS (default 30000). Both exist for tests, which cannot wait 30 s.
 */
export function backoffFromEnv(env: NodeJS.ProcessEnv = process.env): Backoff {
  const firstMs = positive(env.ROGER_PRINTER_BACKOFF_MS) ?? RECONNECT.firstMs;
  const maxMs = positive(env.ROGER_PRINTER_BACKOFF_MAX_MS) ?? RECONNECT.maxMs;
  return { firstMs, maxMs: Math.max(firstMs, maxMs) };
}

/**
 * Errors worth another try: the API unreachable, timing out, or answering 429/5xx, whether the
 * call went through the kit's apiRequest or through openid-client (which throws fetch's
 * TypeError, a ResponseBodyError with the status, or a ClientError holding the Response).
 */
export function isTransientError(error: unknown): boolean {
  if (isTransient(error)) return true;
  if (error instanceof oauth.ResponseBodyError) {
    return transientStatus(error.status) || error.error === 'temporarily_unavailable' || error.error === 'server_error';
  }
  if (error instanceof oauth.ClientError) {
    const cause = (error as Error).cause;
    if (cause instanceof Response) return transientStatus(cause.status);
    return error.code === 'OAUTH_TIMEOUT' || isNetworkFailure(cause);
  }
  return isNetworkFailure(error);
}

/** `work()` until it succeeds, gives a lasting error, or `signal` aborts; `onRetry` hears each transient failure. */
export async function retrying<T>(
  work: () => Promise<T>,
  options: {
    backoff: Backoff;
    signal?: AbortSignal;
    onRetry?: (error: unknown, delayMs: number) => void;
    /** Narrows the transient errors tried again (a caller with a person waiting may rather say some of them). */
    retryable?: (error: unknown) => boolean;
  },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (options.signal?.aborted || !isTransientError(error) || options.retryable?.(error) === false) throw error;
      const delay = backoffDelay(attempt, options.backoff);
      options.onRetry?.(error, delay);
      await sleep(delay, options.signal);
      options.signal?.throwIfAborted();
    }
  }
}

const transientStatus = (status: number) => status === 429 || status === 502 || status === 503 || status === 504;

/** fetch's own failure (refused, reset, DNS, timeout), as undici reports it. */
function isNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError') return true;
  return isFetchFailure(error);
}

function positive(text: string | undefined): number | undefined {
  const value = Number(text);
  return text && Number.isFinite(value) && value > 0 ? value : undefined;
}

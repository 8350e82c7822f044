import { ApiError } from '@roger-cloud/client-kit/http';
import { oauth } from '@roger-cloud/client-kit/oauth';

/** What went wrong in one line a person can act on, in the server's words when it gave some; never a token or a stack. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  // fetch (inside openid-client) says only "fetch failed"; the reason is its cause.
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return `cannot reach Roger (${(error.cause as Error)?.message ?? 'network error'})`;
  }
  return (error as Error)?.message ?? String(error);
}

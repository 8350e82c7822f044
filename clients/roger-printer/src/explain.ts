import { ApiError, isFetchFailure } from '@roger-cloud/client-kit/http';
import { oauth } from '@roger-cloud/client-kit/oauth';

/**
 * What went wrong in one line a person can act on, in the server's words when it gave some;
 * never a token or a stack. Every line the agent prints about an error goes through here, so
 * the redaction below covers them all (docs/clients.md#roger-printer).
 */
export function explain(error: unknown): string {
  return oneLine(reason(error));
}

function reason(error: unknown): string {
  // The Service Bus SDK gathers the tries of one operation; the last says most.
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors.at(-1));
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  // fetch (inside openid-client) says only "fetch failed"; the reason is its cause.
  if (isFetchFailure(error)) {
    return `cannot reach Roger (${(error.cause as Error)?.message ?? 'network error'})`;
  }
  return (error as Error)?.message ?? String(error);
}

/**
 * SDK errors name the entity, not the credential; should one ever quote a connection string or
 * a signed URL, the signature is cut out. Folded to one line and kept short.
 */
function oneLine(text: string): string {
  return text
    .replace(/SharedAccessSignature[^\s;,]*/gi, '[SAS]')
    .replace(/([?&]sig=)[^&\s]*/gi, '$1[SAS]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

/**
 * Why a sign-in at the panel was refused, for the person standing there. The token endpoint's
 * `unauthorized_client` means the organization has this way of signing in turned off (its
 * `badgeSignIn` or `pinOnly` policy), which the server's description may word for an admin:
 * the panel says so plainly, as it does for a server without the grant. Anything else (a wrong badge or PIN, a lock, too many failures and
 * how long to wait) is in the server's words, which name no account.
 */
export function explainSignInRefusal(error: unknown, way: string): string {
  if (error instanceof oauth.ResponseBodyError && error.error === 'unauthorized_client') {
    return `this organization does not use ${way} at its printers`;
  }
  // A region whose API predates the grant (its metadata would not list it either).
  if (error instanceof oauth.ResponseBodyError && error.error === 'unsupported_grant_type') return `Roger does not offer ${way} here yet`;
  return explain(error);
}

/**
 * Why `register badge` did not register it: a number already registered in the organization
 * (to this person or anyone: the API gives one answer, so a badge cannot be used to learn who
 * holds it), or the server's words (too many badges, an unreadable number, a session over).
 */
export function explainBadgeRefusal(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 409 && String(error.problem.type ?? '').endsWith('/badge-taken')) {
      return 'this badge is already registered in your organization';
    }
    if (error.status === 401) return 'the session has ended: sign in again';
  }
  return explain(error);
}

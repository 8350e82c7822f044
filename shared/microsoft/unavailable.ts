import { Unavailable } from '../errors.js';

/**
 * The region has no app registration (or not its secret): Microsoft sign-in is off, everything
 * else works. Not the user's doing and not over in seconds.
 */
export function signInNotConfiguredProblem(): Unavailable {
  return new Unavailable(
    300,
    'Sign in with Microsoft is not available in this region yet: its Microsoft app registration is not configured. Ask your administrator.',
    {},
    'microsoft-sign-in-not-configured',
  );
}

/**
 * What a failure of MSAL (or of our code under it) means, the one reading for every caller
 * (sign-in, the refresh of a session, OneDrive):
 * - `refused`: Entra refuses the person's grant (`invalid_grant`; MSAL's InteractionRequiredAuthError:
 *   consent withdrawn, account disabled, no tokens left). Only this ends a session.
 * - `unavailable`: Entra down, slow or throttling (MicrosoftUnavailable, msal.ts, with its
 *   Retry-After), or Entra answering any other error (`invalid_client`: an expired secret, a
 *   registration changed): ours to fix, not the user's; retried later.
 * - `ours`: anything else (the store failing under the MSAL cache plugin, a bug): rethrown as it
 *   is, so a store fault renders as the store's 503 and a bug as a bug.
 */
export type MicrosoftFailure =
  | { readonly kind: 'refused'; readonly code: string }
  | { readonly kind: 'unavailable'; readonly retryAfterSeconds: number | undefined }
  | { readonly kind: 'ours' };

export function classifyMicrosoftFailure(error: unknown): MicrosoftFailure {
  const { name, errorCode, retryAfterSeconds } = (error ?? {}) as { name?: unknown; errorCode?: unknown; retryAfterSeconds?: unknown };
  const seconds = typeof retryAfterSeconds === 'number' ? retryAfterSeconds : undefined;
  if (name === 'MicrosoftUnavailable') return { kind: 'unavailable', retryAfterSeconds: seconds };
  if (name === 'InteractionRequiredAuthError' || errorCode === 'invalid_grant')
    return { kind: 'refused', code: typeof errorCode === 'string' && errorCode ? errorCode : 'interaction_required' };
  if (name === 'ServerError') return { kind: 'unavailable', retryAfterSeconds: undefined };
  return { kind: 'ours' };
}

import { ApiError, apiRequest, isTransient } from '@roger-cloud/client-kit/http';

/**
 * Telling the API what became of a released job (docs/clients.md#receiving-a-release):
 * `POST /api/jobs/{id}/printed`, with the token of the session that released it (only that
 * person's session at this printer may), and `{ failed: <reason> }` when it could not be
 * printed, which makes the job releasable again.
 */

/** Why a released job was not printed, in the API's words. */
export type FailureReason =
  'paper-jam' | 'out-of-paper' | 'cancelled-at-panel' | 'document-unreadable' | 'document-missing' | 'download-failed' | 'printer-error';

export type Outcome = { readonly printed: true } | { readonly failed: FailureReason };

export type ReportResult =
  /** The API has it (or had it already: a 409 because the job is printed, or failed, already). */
  | 'reported'
  /** No token for the session (yet: the panel's poll may still be on its way). */
  | 'no-token'
  /** It cannot be told any more: the session has ended or is refused. */
  | 'not-reportable';

/**
 * Reports `outcome` for `jobId`. Throws when it is worth trying again later (the API is away:
 * Unreachable, 5xx, 429), so the caller keeps the report pending.
 */
export async function reportOutcome(
  apiUrl: string,
  sessionToken: string | undefined,
  jobId: string,
  outcome: Outcome,
  signal: AbortSignal,
): Promise<ReportResult> {
  if (!sessionToken) return 'no-token';
  try {
    await apiRequest(apiUrl, `/api/jobs/${encodeURIComponent(jobId)}/printed`, {
      method: 'POST',
      token: sessionToken,
      json: 'failed' in outcome ? { failed: outcome.failed } : {},
      signal,
    });
    return 'reported';
  } catch (error) {
    if (isTransient(error) || !(error instanceof ApiError)) throw error;
    if (error.status >= 500) throw error;
    // 409: the job is no longer `released` — printed (this report arrived before, its answer
    // was lost) or failed already: nothing left to tell. 401/403/404: the session is over or
    // the job is not this person's any more; there is no one to tell.
    return error.status === 409 ? 'reported' : 'not-reportable';
  }
}

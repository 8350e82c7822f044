import { ApiError, apiRequest, isTransient } from '@roger-cloud/client-kit/http';
import type { DeviceCredentials } from './contracts.js';
import type { PrintedFigures } from './figures.js';

/**
 * Telling the API what became of a released job (docs/clients.md#receiving-a-release):
 * `POST /api/jobs/{id}/printed`, with what was printed (docs/clients.md#what-was-printed), or
 * `{ failed: <reason> }` when it could not be printed, which makes the job releasable again. It
 * goes with the token of the session that released the job while the panel holds one; once that
 * is gone (the person left, a long job outlived its 20 minutes), with the printer's own device
 * token and `?user=` the job's owner — the API takes that only for jobs released to this printer.
 */

/** Why a released job was not printed, in the API's words. */
export type FailureReason =
  'paper-jam' | 'out-of-paper' | 'cancelled-at-panel' | 'document-unreadable' | 'document-missing' | 'download-failed' | 'printer-error';

export type Outcome = { readonly printed: true; readonly figures?: PrintedFigures } | { readonly failed: FailureReason };

export type ReportResult =
  /** The API has it (or had it already: a 409 because the job is printed, or failed, already). */
  | 'reported'
  /** No token for the session (yet: the panel's poll may still be on its way), and no owner to name with the device token. */
  | 'no-token'
  /** It cannot be told any more: the session has ended or is refused. */
  | 'not-reportable';

/** Who reports: the session's token while the panel holds it, else the printer for the job's owner. */
export interface Reporter {
  readonly credentials: DeviceCredentials;
  readonly sessionToken: string | undefined;
  /** The release's `user.id`; without it (an older API) only the session's token can report. */
  readonly userId: string | undefined;
}

/**
 * Reports `outcome` for `jobId`. Throws when it is worth trying again later (the API is away:
 * Unreachable, 5xx, 429), so the caller keeps the report pending; and Disconnected when the
 * device token is needed and the printer's enrollment has ended.
 */
export async function reportOutcome(reporter: Reporter, jobId: string, outcome: Outcome, signal: AbortSignal): Promise<ReportResult> {
  const { credentials, sessionToken, userId } = reporter;
  const path = `/api/jobs/${encodeURIComponent(jobId)}/printed`;
  const send = async (token: string, query = '') => {
    try {
      await postReport(credentials.apiUrl, `${path}${query}`, token, outcome, signal);
      return 'reported' as const;
    } catch (error) {
      return settled(error);
    }
  };
  if (sessionToken) {
    const result = await send(sessionToken);
    // 401: the session's token died on the API's clock before ours; the device token can still tell.
    if (result !== 401 || !userId) return result === 401 ? 'not-reportable' : result;
  }
  if (!userId) return 'no-token';
  const query = `?user=${encodeURIComponent(userId)}`;
  const token = await credentials.accessToken();
  const result = await send(token, query);
  // A device token that died early (a clock ahead, a key rotated): once more with a fresh one.
  const final = result === 401 ? await send(await credentials.rejected(token), query) : result;
  return final === 401 ? 'not-reportable' : final;
}

/**
 * The report, with the figures when there are some. Figures the API refuses (400: they do not
 * fit the job's options, as an agent that misread a document could count) are dropped, and the
 * job reported printed without them: it was printed, and the figures are only the agent's count.
 */
async function postReport(apiUrl: string, path: string, token: string, outcome: Outcome, signal: AbortSignal): Promise<void> {
  const json = 'failed' in outcome ? { failed: outcome.failed } : (outcome.figures ?? {});
  try {
    await apiRequest(apiUrl, path, { method: 'POST', token, json, signal });
  } catch (error) {
    if (!('printed' in outcome) || !outcome.figures || !(error instanceof ApiError) || error.status !== 400) throw error;
    await apiRequest(apiUrl, path, { method: 'POST', token, json: {}, signal });
  }
}

/** What an API error means for the report: 401 (the token; maybe another one works), or a result; throws what is worth retrying. */
function settled(error: unknown): ReportResult | 401 {
  if (isTransient(error) || !(error instanceof ApiError)) throw error;
  if (error.status >= 500) throw error;
  if (error.status === 401) return 401;
  // 409: the job is no longer `released` — printed (this report arrived before, its answer
  // was lost) or failed already: nothing left to tell. 403/404: the session is over, the printer
  // disconnected, or the job is not this person's (or this printer's) any more; no one to tell.
  return error.status === 409 ? 'reported' : 'not-reportable';
}

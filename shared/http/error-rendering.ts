import { Conflict, DomainError, RateLimited, Unauthorized, Unavailable, type DomainErrorKind } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { OAuthError } from '../oauth/errors.js';
import { ScimError, type ScimType } from '../scim/errors.js';
import { InvalidContinuationToken } from '../store/paging.js';
import { StoreUnavailableError } from '../store/store-http-client.js';
import { htmlResult } from '../web/html.js';
import { messagePage } from '../web/message-page.js';
import { HttpProblem, problemKinds, type ProblemKind } from './problem.js';
import type { AnyRoute, RouteResult } from './route.js';

/**
 * Everything thrown below a route ends here, in one of four renderings chosen by the route's
 * `errorFormat`: RFC 9457 problem+json (the API), RFC 6749 §5.2 JSON (/oauth, whose clients are
 * OAuth libraries), an HTML page (pages a browser shows, such as /device), or the SCIM error
 * schema (/scim/v2, whose clients are identity providers). Whatever was thrown is first said as
 * one problem (kind, status, detail, facts, headers), so the renderings always agree on the
 * status and the retry hint; only the words and the media type differ. What nobody anticipated
 * is logged and becomes a 500 naming the log line.
 */

/** The problem type of each domain error kind; a conflict or an outage with a code has that code's type. */
const PROBLEM_OF: Readonly<Record<DomainErrorKind, ProblemKind>> = {
  invalid: 'validation-failed',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  'not-found': 'not-found',
  conflict: 'conflict',
  'rate-limited': 'too-many-requests',
  unavailable: 'service-unavailable',
  'upstream-failed': 'bad-gateway',
};

/** RFC 6750 §3: a token that names nothing valid (any more) is `invalid_token`. */
const INVALID_TOKEN_CHALLENGE = 'Bearer realm="roger", error="invalid_token"';

function problemOfDomainError(error: DomainError): HttpProblem {
  const kind = (error instanceof Conflict || error instanceof Unavailable) && error.code ? error.code : PROBLEM_OF[error.kind];
  const headers: Record<string, string> =
    error instanceof RateLimited || error instanceof Unavailable
      ? { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterSeconds))) }
      : error instanceof Unauthorized
        ? { 'WWW-Authenticate': INVALID_TOKEN_CHALLENGE }
        : {};
  return new HttpProblem(kind, error.detail, { ...error.facts }, headers);
}

/**
 * Store throttling or an outage is the caller's cue to retry, not an internal error: 429 past
 * the SDK's retries, 503, no answer in time or no connection (StoreUnavailableError, from the
 * store's HTTP client), or the SDK's own TimeoutError. So is a 412 that got this far: a
 * conditional write that lost to other writers of one item on every try (writeOnLatest), an
 * item too busy for now.
 */
function storeUnavailable(error: unknown): Unavailable | undefined {
  const e = error as { code?: unknown; name?: unknown; retryAfterInMs?: unknown };
  const throttled = e?.code === 429;
  const contended = e?.code === 412;
  if (!throttled && !contended && e?.code !== 503 && e?.name !== 'TimeoutError' && !(error instanceof StoreUnavailableError))
    return undefined;
  const seconds = throttled && typeof e.retryAfterInMs === 'number' ? Math.max(1, Math.ceil(e.retryAfterInMs / 1000)) : 1;
  return new Unavailable(seconds, 'the data store is busy; retry shortly');
}

/** What was thrown, as a problem; undefined for what nobody anticipated (a bug). */
function problemOf(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof DomainError) return problemOfDomainError(error);
  if (error instanceof OAuthError) return new HttpProblem('validation-failed', error.description);
  if (error instanceof InvalidContinuationToken) {
    return new HttpProblem('validation-failed', 'the continuation token is not one this list gave out; start again from the first page', {
      errors: [{ pointer: '/query/continuationToken', detail: 'is not a valid continuation token' }],
    });
  }
  const unavailable = storeUnavailable(error);
  return unavailable && problemOfDomainError(unavailable);
}

/** Error class, code and stack frames: enough to find the bug, without the message (it may carry data). */
function describeForLog(error: unknown) {
  const e = error as { name?: unknown; code?: unknown; stack?: unknown };
  const frames = typeof e?.stack === 'string' ? e.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return {
    error: typeof e?.name === 'string' ? e.name : typeof error,
    code: typeof e?.code === 'string' || typeof e?.code === 'number' ? e.code : undefined,
    at:
      frames
        .slice(0, 5)
        .map((line) => line.trim().replace(/^at /, ''))
        .join(' < ') || undefined,
  };
}

// --- the three renderings ------------------------------------------------------------------------

function problemJson(problem: HttpProblem, path: string): RouteResult {
  return { status: problem.status, body: problem.toJSON(path), headers: problem.headers, contentType: 'application/problem+json' };
}

/** RFC 6749 §5.2 (and RFC 6750 §3 for a failed client authentication), as the protocol code chose it. */
function oauthJsonOf(error: OAuthError): RouteResult {
  const headers: Record<string, string> =
    error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="roger", error="invalid_client"' } : {};
  return { status: error.status, body: error.toJSON(), headers: { ...headers, Pragma: 'no-cache' } };
}

/**
 * Any other problem on /oauth. RFC 6749 registers no code for a rate limit, so it keeps its 429
 * (RFC 6585 §4) with `temporarily_unavailable`, the code a client already takes as "try again
 * later"; so does an outage (503). Any other failure of ours is `server_error`; anything else
 * the client sent wrong is `invalid_request`. Retry-After is kept.
 */
function oauthJsonFor(problem: HttpProblem): RouteResult {
  const [status, error] =
    problem.status === 429 || problem.status === 503
      ? [problem.status, 'temporarily_unavailable']
      : problem.status >= 500
        ? [500, 'server_error']
        : [400, 'invalid_request'];
  const retry = problem.headers['Retry-After'];
  return {
    status,
    body: { error, error_description: problem.detail },
    headers: { Pragma: 'no-cache', ...(retry ? { 'Retry-After': retry } : {}) },
  };
}

/** The words of one error page. */
export interface ErrorPageText {
  readonly title: string;
  readonly message: string;
}

/**
 * An HTML route's error pages: the wording for the problems it expects, in its users' terms (an
 * unknown code on /device is "This request is no longer pending"); any other problem gets its
 * title and detail. `startAgain` links every error page back to the start.
 */
export interface ErrorPages {
  readonly byKind?: Partial<Readonly<Record<ProblemKind, ErrorPageText>>>;
  readonly startAgain?: string;
}

function htmlPageFor(problem: HttpProblem, pages: ErrorPages = {}, errorId?: string): RouteResult {
  const text = pages.byKind?.[problem.kind] ?? { title: problemKinds[problem.kind].title, message: problem.detail };
  const page = messagePage(text.title, text.message, {
    ...(pages.startAgain ? { startAgain: pages.startAgain } : {}),
    ...(errorId ? { errorId } : {}),
  });
  return htmlResult(problem.status, page, problem.headers);
}

export const SCIM_MEDIA_TYPE = 'application/scim+json';
const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** The SCIM routes' own realm, so that a client never mistakes a SCIM token's refusal for an OAuth one. */
const SCIM_REALM = 'Bearer realm="roger-scim"';

/** The scimType (RFC 7644 §3.12) an identity provider acts on, for the problems that have one. */
const SCIM_TYPE_OF: Partial<Readonly<Record<ProblemKind, ScimType>>> = {
  'validation-failed': 'invalidValue',
  'malformed-json': 'invalidSyntax',
};

/** RFC 7644 §3.12: `status` is the HTTP status as a string; `scimType` only where one applies. */
function scimJson(status: number, detail: string, scimType: ScimType | undefined, headers: Readonly<Record<string, string>>): RouteResult {
  return {
    status,
    body: { schemas: [SCIM_ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail },
    headers,
    contentType: SCIM_MEDIA_TYPE,
  };
}

/**
 * A problem said in the SCIM error schema. The 401 challenge names the SCIM realm and keeps
 * RFC 6750's `invalid_token` when a token was sent; Retry-After (429, 503) and Accept (415) are
 * kept. A 500 names its errorId in the detail, since the schema has no member for it.
 */
function scimJsonFor(problem: HttpProblem, errorId?: string): RouteResult {
  const headers: Record<string, string> = { ...problem.headers };
  if (problem.status === 401) {
    headers['WWW-Authenticate'] = /error="invalid_token"/.test(headers['WWW-Authenticate'] ?? '')
      ? `${SCIM_REALM}, error="invalid_token"`
      : SCIM_REALM;
  }
  const detail = errorId ? `${problem.detail} (errorId ${errorId})` : problem.detail;
  return scimJson(problem.status, detail, SCIM_TYPE_OF[problem.kind], headers);
}

/** Where the error happened, for the log line and the `instance` of a problem. */
export interface ErrorScene {
  readonly log: Logger;
  readonly requestId: string;
  readonly path: string;
}

/** The answer to a route whose handler (or the wrapper around it) threw `error`. */
export function renderError(route: AnyRoute, error: unknown, { log, requestId, path }: ErrorScene): RouteResult {
  if (route.errorFormat === 'oauth' && error instanceof OAuthError) return oauthJsonOf(error);
  // Thrown by the SCIM domain code, which only the /scim/v2 routes call: anywhere else it is a bug (a 500).
  if (route.errorFormat === 'scim' && error instanceof ScimError) {
    return scimJson(error.status, error.detail, error.scimType, error.status === 401 ? { 'WWW-Authenticate': SCIM_REALM } : {});
  }
  let problem = problemOf(error);
  let errorId: string | undefined;
  if (!problem) {
    log.error('unhandled-error', { errorId: requestId, ...describeForLog(error) });
    errorId = requestId;
    problem = new HttpProblem('internal-error', 'something went wrong on our side; quote the errorId to support', { errorId });
  }
  switch (route.errorFormat) {
    case 'oauth':
      return oauthJsonFor(problem);
    case 'html':
      return htmlPageFor(problem, route.errorPages, errorId);
    case 'scim':
      return scimJsonFor(problem, errorId);
    default:
      return problemJson(problem, path);
  }
}

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { Type } from '@sinclair/typebox';
import { authenticateBearer, userIdOf, type Principal } from '../auth/principal.js';
import { invocationLogger, type Logger } from '../logging/logger.js';
import { OAuthError, OAuthRateLimited } from '../oauth/errors.js';
import type { Services, ServicesProvider } from '../services.js';
import { InvalidContinuationToken } from '../store/paging.js';
import { measureCosmosUsage } from '../store/request-meter.js';
import { StoreUnavailableError } from '../store/store-http-client.js';
import { readUser, type UserDoc } from '../users/users.js';
import { HttpProblem } from './problem.js';
import type { AnyRoute, RouteInput, RouteResult, RouteSchemas } from './route.js';
import type { RouteTable } from './route-table.js';
import { validateInput } from './validation.js';

/**
 * Headers on every response. The API serves JSON only (the verification page sets its own
 * policy), so the CSP forbids everything; HSTS because clients must never fall back to HTTP.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
};

const NO_QUERY = Type.Object({}, { additionalProperties: false });
const NO_PARAMS = Type.Object({});

function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key);
    result[key] = values.length === 1 ? values[0]! : values;
  }
  return result;
}

function mediaTypeIs(contentType: string | null, expected: string): boolean {
  if (!contentType) return false;
  const [mediaType, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== expected) return false;
  // RFC 8259 §8.1: JSON is UTF-8; forms are read as UTF-8 too. A charset, if any, must say so.
  return parameters.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** JSON.parse messages quote the input in newer V8s; keep only the position so no secret is echoed. */
function describeJsonError(error: unknown): string {
  const position = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  return position ? `the body is not valid JSON (error at position ${position[1]})` : 'the body is not valid JSON';
}

function checkDeclaredLength(request: HttpRequest, limit: number): void {
  if (Number(request.headers.get('content-length') ?? '0') > limit) {
    throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  }
}

async function readText(request: HttpRequest, mediaType: string, limit: number): Promise<string> {
  checkDeclaredLength(request, limit);
  if (!mediaTypeIs(request.headers.get('content-type'), mediaType)) {
    throw new HttpProblem('unsupported-media-type', `send the body as ${mediaType}`, {}, { Accept: mediaType });
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > limit) throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem('malformed-json', 'the body is not valid UTF-8');
  }
}

async function readJsonBody(request: HttpRequest, schema: NonNullable<RouteSchemas['body']>, limit: number) {
  const text = await readText(request, 'application/json', limit);
  if (text.length === 0) throw new HttpProblem('malformed-json', 'the body is empty; send a JSON document');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem('malformed-json', describeJsonError(error));
  }
  return validateInput('body', schema, value);
}

/** An optional body that was left out: fine if there really are no bytes. */
async function readNoBody(request: HttpRequest, limit: number): Promise<undefined> {
  checkDeclaredLength(request, limit);
  if ((await request.arrayBuffer()).byteLength > 0) {
    throw new HttpProblem('unsupported-media-type', 'send the body as application/json', {}, { Accept: 'application/json' });
  }
  return undefined;
}

async function readFormBody(request: HttpRequest, schema: NonNullable<RouteSchemas['form']>, limit: number) {
  const text = await readText(request, 'application/x-www-form-urlencoded', limit);
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue; // RFC 6749 §3.1: sent without a value = omitted
    if (Object.hasOwn(form, name)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
    form[name] = value;
  }
  return validateInput('form', schema, form);
}

async function readInput(
  route: AnyRoute,
  request: HttpRequest,
  path: string,
  bodyLimit: number,
): Promise<RouteInput<RouteSchemas>> {
  const schemas: RouteSchemas = route.request ?? {};
  const params = validateInput<Record<string, never>>('params', schemas.params ?? NO_PARAMS, { ...request.params });
  const query = validateInput<Record<string, never>>('query', schemas.query ?? NO_QUERY, queryObject(request.query));
  let body: unknown;
  let form: unknown;
  if (schemas.body && schemas.bodyOptional && !request.headers.get('content-type')) body = await readNoBody(request, bodyLimit);
  else if (schemas.body) body = await readJsonBody(request, schemas.body, bodyLimit);
  else if (schemas.form) form = await readFormBody(request, schemas.form, bodyLimit);
  else checkDeclaredLength(request, bodyLimit);
  return {
    params,
    query,
    body: body as undefined,
    form: form as undefined,
    headers: request.headers,
    method: request.method,
    path,
  };
}

const invalidToken = (detail: string) =>
  new HttpProblem('unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="roger", error="invalid_token"' });

/** `RequestContext.currentUser`: one point read, made at most once per request and only when asked for. */
function currentUserOf(services: Services, principal: Principal | undefined): () => Promise<UserDoc> {
  let read: Promise<UserDoc> | undefined;
  return () =>
    (read ??= (async () => {
      const userId = principal ? userIdOf(principal) : undefined;
      const user = principal && userId ? await readUser(services.store, principal.tenantId, userId) : undefined;
      if (!user) throw invalidToken('the account this token was issued to no longer exists');
      return user;
    })());
}

/** RFC 6750 §3: 401 with `invalid_token`, 403 with `insufficient_scope`; no hint without a token. */
async function authorize(route: AnyRoute, request: HttpRequest, services: Services): Promise<Principal | undefined> {
  const requirement = route.auth;
  if (!requirement) return undefined;
  const check = await authenticateBearer(request.headers, services);
  if (!check.ok) {
    if (check.reason === 'invalid') throw invalidToken('the access token is not valid');
    // RFC 6750 §3.1: no error code when the request had no token at all.
    throw new HttpProblem('unauthorized', 'send an access token: Authorization: Bearer <token>', {}, { 'WWW-Authenticate': 'Bearer realm="roger"' });
  }
  const { principal } = check;
  const scopes = requirement.anyScope ?? [];
  const scopeOk = scopes.length === 0 || scopes.some((scope) => principal.scopes.has(scope));
  if (!requirement.kinds.includes(principal.kind) || !scopeOk) {
    throw new HttpProblem('forbidden', 'this token may not call this endpoint', {}, {
      'WWW-Authenticate': `Bearer realm="roger", error="insufficient_scope"${scopes.length ? `, scope="${scopes.join(' ')}"` : ''}`,
    });
  }
  return principal;
}

/** Roles as stored now: a demoted admin loses admin routes at once, not when the token expires. */
async function checkRoles(route: AnyRoute, currentUser: () => Promise<UserDoc>): Promise<void> {
  const roles = route.auth?.anyRole ?? [];
  if (roles.length > 0 && !roles.includes((await currentUser()).role)) {
    throw new HttpProblem('forbidden', `this needs the ${roles.join(' or ')} role`);
  }
}

/**
 * Store throttling or an outage is the caller's cue to retry, not an internal error: 429 past
 * the SDK's retries, 503, no answer in time or no connection (StoreUnavailableError, from the
 * store's HTTP client), or the SDK's own TimeoutError. So is a 412 that got this far: a
 * conditional write that lost to other writers of one item on every try (writeOnLatest), an
 * item too busy for now.
 */
function storeUnavailable(error: unknown): HttpProblem | undefined {
  const e = error as { code?: unknown; name?: unknown; retryAfterInMs?: unknown };
  const throttled = e?.code === 429;
  const contended = e?.code === 412;
  if (!throttled && !contended && e?.code !== 503 && e?.name !== 'TimeoutError' && !(error instanceof StoreUnavailableError)) return undefined;
  const seconds = throttled && typeof e.retryAfterInMs === 'number' ? Math.max(1, Math.ceil(e.retryAfterInMs / 1000)) : 1;
  return new HttpProblem('service-unavailable', 'the data store is busy; retry shortly', {}, { 'Retry-After': String(seconds) });
}

/** Error class, code and stack frames: enough to find the bug, without the message (it may carry data). */
function describeForLog(error: unknown) {
  const e = error as { name?: unknown; code?: unknown; stack?: unknown };
  const frames = typeof e?.stack === 'string' ? e.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  return {
    error: typeof e?.name === 'string' ? e.name : typeof error,
    code: typeof e?.code === 'string' || typeof e?.code === 'number' ? e.code : undefined,
    at: frames.slice(0, 5).map((line) => line.trim().replace(/^at /, '')).join(' < ') || undefined,
  };
}

function errorResult(route: AnyRoute, error: unknown, log: Logger, requestId: string, path: string): RouteResult {
  if (error instanceof OAuthError && route.errorFormat === 'oauth') {
    const headers: Record<string, string> =
      error.status === 401
        ? { 'WWW-Authenticate': 'Bearer realm="roger", error="invalid_client"' }
        : error instanceof OAuthRateLimited
          ? { 'Retry-After': String(error.retryAfterSeconds) }
          : {};
    return { status: error.status, body: error.toJSON(), headers: { ...headers, Pragma: 'no-cache' } };
  }
  let problem =
    error instanceof HttpProblem
      ? error
      : error instanceof OAuthError
        ? new HttpProblem('validation-failed', error.description)
        : error instanceof InvalidContinuationToken
          ? new HttpProblem('validation-failed', 'the continuation token is not one this list gave out; start again from the first page', {
              errors: [{ pointer: '/query/continuationToken', detail: 'is not a valid continuation token' }],
            })
          : storeUnavailable(error);
  if (!problem) {
    log.error('unhandled-error', { errorId: requestId, ...describeForLog(error) });
    problem = new HttpProblem('internal-error', 'something went wrong on our side; quote the errorId to support', {
      errorId: requestId,
    });
  }
  if (route.errorFormat === 'oauth') return oauthErrorFor(problem);
  return {
    status: problem.status,
    body: problem.toJSON(path),
    headers: problem.headers,
    contentType: 'application/problem+json',
  };
}

/** The /oauth endpoints speak RFC 6749 §5.2 even for input the wrapper rejects. */
function oauthErrorFor(problem: HttpProblem): RouteResult {
  const error =
    problem.status >= 500
      ? new OAuthError(problem.status === 503 ? 'temporarily_unavailable' : 'server_error', problem.detail)
      : new OAuthError('invalid_request', problem.detail);
  const retry = problem.headers['Retry-After'];
  return { status: error.status, body: error.toJSON(), headers: { Pragma: 'no-cache', ...(retry ? { 'Retry-After': retry } : {}) } };
}

/**
 * What every handler answers: a plain header object and a string body, or none. An
 * HttpResponseInit the Functions host takes as is; the local host writes it without a detour.
 */
export interface PlainResponseInit extends HttpResponseInit {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function toResponseInit(result: RouteResult, requestId: string): PlainResponseInit {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    // Default: nothing is cached; a route that is safe to cache says so itself.
    'Cache-Control': 'no-store',
    'X-Request-Id': requestId,
    ...result.headers,
  };
  if (result.body === undefined || result.status === 204 || result.status === 304) {
    return { status: result.status, headers };
  }
  headers['Content-Type'] = result.contentType ?? 'application/json';
  const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  return { status: result.status, headers, body };
}

export interface HttpHandlerDependencies {
  readonly services: ServicesProvider;
  readonly table: RouteTable;
}

/**
 * Wraps a route's handler into an Azure Functions HTTP handler: authentication, validation,
 * errors as problem+json (or RFC 6749 JSON on /oauth), security headers, Cosmos request
 * counting and one log line per request. Both the Functions host and the local host call this.
 */
export function createHttpHandler(route: AnyRoute, deps: HttpHandlerDependencies) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<PlainResponseInit> => {
    const started = performance.now();
    const log = invocationLogger(invocation);
    const requestId = invocation.invocationId;
    const path = new URL(request.url).pathname;
    const { result: response, usage } = await measureCosmosUsage(async () => {
      let result: RouteResult;
      try {
        const services = await deps.services();
        const principal = await authorize(route, request, services);
        const currentUser = currentUserOf(services, principal);
        await checkRoles(route, currentUser);
        const input = await readInput(route, request, path, services.config.http.bodyLimitBytes);
        result = await route.handler(input, services, { log, requestId, table: deps.table, principal, currentUser });
      } catch (error) {
        result = errorResult(route, error, log, requestId, path);
      }
      return toResponseInit(result, requestId);
    });
    log.info('request', {
      method: request.method,
      route: `/${route.route}`,
      status: response.status,
      ms: Math.round(performance.now() - started),
      cosmosRequests: usage.requests,
      cosmosRU: Math.round(usage.requestCharge * 100) / 100,
    });
    return response;
  };
}

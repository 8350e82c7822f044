import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { authenticateBearer, userIdOf, type Principal } from '../auth/principal.js';
import { Unauthorized } from '../errors.js';
import { invocationLogger } from '../logging/logger.js';
import type { Services, ServicesProvider } from '../services.js';
import { noTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { measureCosmosUsage } from '../store/request-meter.js';
import { requireActive } from '../users/activation.js';
import { readUser, type UserDoc } from '../users/users.js';
import { renderError } from './error-rendering.js';
import { HttpProblem } from './problem.js';
import { readInput } from './request-input.js';
import type { AnyRoute, RouteResult } from './route.js';
import type { RouteTable } from './route-table.js';

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

/**
 * `RequestContext.currentUser`: one point read, made at most once per request and only when asked
 * for. A deactivated user (activation.ts) is refused like an erased one: their access token still
 * verifies until it expires, but no route that reads them serves them.
 */
function currentUserOf(services: Services, principal: Principal | undefined): () => Promise<UserDoc> {
  let read: Promise<UserDoc> | undefined;
  return () =>
    (read ??= (async () => {
      const userId = principal ? userIdOf(principal) : undefined;
      const user = principal && userId ? await readUser(services.store, principal.tenantId, userId) : undefined;
      if (!user) throw new Unauthorized('the account this token was issued to no longer exists');
      return requireActive(user);
    })());
}

/**
 * RFC 6750 §3: 401 with `invalid_token` (Unauthorized: the renderers add the challenge), 403
 * with `insufficient_scope`; no hint without a token.
 */
async function authorize(route: AnyRoute, request: HttpRequest, services: Services): Promise<Principal | undefined> {
  const requirement = route.auth;
  if (!requirement) return undefined;
  const check = await authenticateBearer(request.headers, services);
  if (!check.ok) {
    if (check.reason === 'invalid') throw new Unauthorized('the access token is not valid');
    // RFC 6750 §3.1: no error code when the request had no token at all.
    throw new HttpProblem(
      'unauthorized',
      'send an access token: Authorization: Bearer <token>',
      {},
      { 'WWW-Authenticate': 'Bearer realm="roger"' },
    );
  }
  const { principal } = check;
  const scopes = requirement.anyScope ?? [];
  const scopeOk = scopes.length === 0 || scopes.some((scope) => principal.scopes.has(scope));
  if (!requirement.kinds.includes(principal.kind) || !scopeOk) {
    throw new HttpProblem(
      'forbidden',
      'this token may not call this endpoint',
      {},
      {
        'WWW-Authenticate': `Bearer realm="roger", error="insufficient_scope"${scopes.length ? `, scope="${scopes.join(' ')}"` : ''}`,
      },
    );
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
 * What every handler answers: a plain header object and a string body, or none. An
 * HttpResponseInit the Functions host takes as is; the local host writes it without a detour.
 */
export interface PlainResponseInit extends HttpResponseInit {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function toResponseInit(result: RouteResult, requestId: string, head: boolean): PlainResponseInit {
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
  // RFC 9110 §9.3.2: HEAD is GET without the content (Front Door probes with HEAD). Dropped here,
  // so no host has to know; the local host would drop it too, the Functions host might not.
  if (head) return { status: result.status, headers };
  const body = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  return { status: result.status, headers, body };
}

export interface HttpHandlerDependencies {
  readonly services: ServicesProvider;
  readonly table: RouteTable;
  /** The services' telemetry (lazyServices): the request's log records, and the 429 and 503 answers it counts. */
  readonly telemetry?: Telemetry;
}

/**
 * Wraps a route's handler into an Azure Functions HTTP handler: authentication, the input read
 * and validated (request-input.ts), errors rendered in the route's format (error-rendering.ts),
 * security headers, Cosmos request counting and one log line per request. Both the Functions
 * host and the local host call this.
 */
export function createHttpHandler(route: AnyRoute, deps: HttpHandlerDependencies) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<PlainResponseInit> => {
    const started = performance.now();
    const telemetry = deps.telemetry ?? noTelemetry;
    const log = invocationLogger(invocation, telemetry);
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
        result = renderError(route, error, { log, requestId, path });
      }
      return toResponseInit(result, requestId, request.method === 'HEAD');
    });
    // Refusals an operator watches: throttling (ours or the store's) and unavailability, whoever raised them.
    if (response.status === 429 || response.status === 503) telemetry.refusal(response.status);
    log.info('request', {
      method: request.method,
      route: `/${route.route}`,
      status: response.status,
      ms: Math.round(performance.now() - started),
      cosmosRequests: usage.requests,
      cosmosRU: Math.round(usage.requestCharge * 100) / 100,
      // Bytes each way, index terms written and Azure's RU estimate (docs/data.md#what-a-call-costs).
      cosmosBytesRead: usage.bytesRead,
      cosmosBytesWritten: usage.bytesWritten,
      cosmosIndexedPaths: usage.indexedPaths,
      cosmosRUEstimate: Math.round(usage.ruEstimate * 100) / 100,
    });
    return response;
  };
}

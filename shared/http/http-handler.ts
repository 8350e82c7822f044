import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { Type } from '@sinclair/typebox';
import { invocationLogger, type Logger } from '../logging/logger.js';
import type { ServicesProvider } from '../services.js';
import { measureCosmosUsage } from '../store/request-meter.js';
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

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [mediaType, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return false;
  // RFC 8259 §8.1: JSON is UTF-8; a charset parameter, if any, must say so.
  return parameters.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/** JSON.parse messages quote the input in newer V8s; keep only the position so no secret is echoed. */
function describeJsonError(error: unknown): string {
  const position = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  return position ? `the body is not valid JSON (error at position ${position[1]})` : 'the body is not valid JSON';
}

async function readJsonBody(request: HttpRequest, schema: NonNullable<RouteSchemas['body']>, limit: number) {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    throw new HttpProblem('unsupported-media-type', 'send the body as application/json', {}, { Accept: 'application/json' });
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > limit) throw new HttpProblem('payload-too-large', `the body may be at most ${limit} bytes`);
  if (bytes.byteLength === 0) throw new HttpProblem('malformed-json', 'the body is empty; send a JSON document');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpProblem('malformed-json', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem('malformed-json', describeJsonError(error));
  }
  return validateInput('body', schema, value);
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
  if (schemas.body) {
    body = await readJsonBody(request, schemas.body, bodyLimit);
  } else if (Number(request.headers.get('content-length') ?? '0') > bodyLimit) {
    throw new HttpProblem('payload-too-large', `the body may be at most ${bodyLimit} bytes`);
  }
  return { params, query, body: body as undefined, headers: request.headers, method: request.method, path };
}

/** Store throttling or an outage is the caller's cue to retry, not an internal error. */
function storeUnavailable(error: unknown): HttpProblem | undefined {
  const e = error as { code?: unknown; name?: unknown; retryAfterInMs?: unknown };
  const throttled = e?.code === 429;
  if (!throttled && e?.code !== 503 && e?.name !== 'TimeoutError') return undefined;
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

function problemResult(error: unknown, log: Logger, requestId: string, path: string): RouteResult {
  let problem = error instanceof HttpProblem ? error : storeUnavailable(error);
  if (!problem) {
    log.error('unhandled-error', { errorId: requestId, ...describeForLog(error) });
    problem = new HttpProblem('internal-error', 'something went wrong on our side; quote the errorId to support', {
      errorId: requestId,
    });
  }
  return {
    status: problem.status,
    body: problem.toJSON(path),
    headers: problem.headers,
    contentType: 'application/problem+json',
  };
}

function toResponseInit(result: RouteResult, requestId: string): HttpResponseInit {
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
 * Wraps a route's handler into an Azure Functions HTTP handler: validation, errors as
 * problem+json, security headers, Cosmos request counting and one log line per request.
 * Both the Functions host and the local host call exactly this.
 */
export function createHttpHandler(route: AnyRoute, deps: HttpHandlerDependencies) {
  return async (request: HttpRequest, invocation: InvocationContext): Promise<HttpResponseInit> => {
    const started = performance.now();
    const log = invocationLogger(invocation);
    const requestId = invocation.invocationId;
    const path = new URL(request.url).pathname;
    const { result: response, usage } = await measureCosmosUsage(async () => {
      let result: RouteResult;
      try {
        const services = await deps.services();
        const input = await readInput(route, request, path, services.config.http.bodyLimitBytes);
        result = await route.handler(input, services, { log, requestId, table: deps.table });
      } catch (error) {
        result = problemResult(error, log, requestId, path);
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

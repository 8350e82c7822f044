/**
 * Calls to the Roger API as any third-party client makes them: JSON in and out, a Bearer token,
 * and errors as RFC 9457 problems (`application/problem+json`) turned into ApiError, so a
 * program can say what went wrong in the API's own words.
 */

/** An RFC 9457 problem, as the API sends it outside /oauth. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** A non-2xx answer from the API. `retryAfterSeconds` from Retry-After when the API sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly retryAfterSeconds?: number,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/** The API could not be reached at all (connection refused or reset, DNS): worth retrying. */
export class Unreachable extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach ${new URL(url).origin}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'Unreachable';
  }
}

/**
 * fetch() failing outright (refused, reset, no such host), as undici throws it, also from inside
 * openid-client: a TypeError that says only "fetch failed", its reason in `cause`.
 */
export const isFetchFailure = (error: unknown): error is TypeError => error instanceof TypeError && error.message === 'fetch failed';

export interface ApiCall {
  readonly method?: string;
  readonly token?: string;
  readonly json?: unknown;
  readonly signal?: AbortSignal;
}

/** One API call: the parsed JSON body of a 2xx answer (undefined for 204), or ApiError / Unreachable. */
export async function apiRequest<T = unknown>(baseUrl: string, path: string, call: ApiCall = {}): Promise<T> {
  const url = new URL(path, baseUrl).href;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.json !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method ?? (call.json === undefined ? 'GET' : 'POST'),
      headers,
      ...(call.json !== undefined ? { body: JSON.stringify(call.json) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
  } catch (error) {
    if (call.signal?.aborted) throw error;
    throw new Unreachable(url, error);
  }
  const text = await response.text();
  const body = text ? parseJson(text) : undefined;
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after'));
    const problem: Problem = body && typeof body === 'object' ? (body as Problem) : { status: response.status, title: response.statusText };
    throw new ApiError(response.status, problem, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
  }
  return body as T;
}

/** Errors worth trying again after a pause: the API or its dependencies are away for a moment. */
export function isTransient(error: unknown): boolean {
  if (error instanceof Unreachable) return true;
  return error instanceof ApiError && (error.status === 502 || error.status === 503 || error.status === 504 || error.status === 429);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

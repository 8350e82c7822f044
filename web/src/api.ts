// Calls to the public API as JSON, through apiFetch (access token, renewal, sign-in again). An
// answer that is not OK becomes an ApiProblem carrying RFC 9457's title and detail as words, and
// the whole problem body for screens that show more (field errors, `fields`).
import { apiFetch } from './auth.js';
import { problemOf, type ProblemWords } from './problem.js';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemWords,
    /** The problem+json body as the API sent it (`type`, `errors`, `fields` …), or undefined. */
    readonly body: Record<string, unknown> | undefined,
  ) {
    super([problem.title, problem.detail].filter(Boolean).join(': '));
    this.name = 'ApiProblem';
  }
}

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
}

/** The answer's JSON (undefined for 204); throws ApiProblem when it is not OK, `fallback` as its title when the body has none. */
export async function apiJson<T>(path: string, options: ApiOptions = {}, fallback = 'The request failed'): Promise<T> {
  const response = await apiFetch(path, {
    method: options.method ?? 'GET',
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body), headers: { 'Content-Type': 'application/json' } }),
  });
  if (!response.ok) {
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as Record<string, unknown> | undefined;
    throw new ApiProblem(response.status, await problemOf(response, fallback), body);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Any thrown value as words for an error bar. */
export function problemWords(error: unknown, fallback: string): ProblemWords {
  if (error instanceof ApiProblem) return error.problem;
  return { title: fallback, detail: error instanceof Error ? error.message : String(error) };
}

// Calls to the public API as JSON, through apiFetch (access token, renewal, sign-in again). An
// answer that is not OK becomes an ApiProblem carrying RFC 9457's title and detail as words, and
// the whole problem body for screens that show more (field errors, `fields`).
import { apiFetch } from './auth.js';
import type { ProblemWords } from './problem.js';

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    /** The body's `title` and `detail`; `title` is undefined when the body has none (a proxy's HTML page), so the screen's own words stand in. */
    readonly problem: { title?: string; detail?: string },
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

/** The answer's JSON (undefined for 204); throws ApiProblem when it is not OK, with `fallback` (the screen's words) as its title when the body has none. */
export async function apiJson<T>(path: string, options: ApiOptions = {}, fallback?: string): Promise<T> {
  const response = await apiFetch(path, {
    method: options.method ?? 'GET',
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body), headers: { 'Content-Type': 'application/json' } }),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const title = typeof body?.title === 'string' ? body.title : fallback;
    const detail = typeof body?.detail === 'string' ? body.detail : body ? undefined : `HTTP ${response.status}`;
    throw new ApiProblem(response.status, { ...(title === undefined ? {} : { title }), ...(detail === undefined ? {} : { detail }) }, body);
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Any thrown value as words for an error bar; `fallback` (the screen's words) when the API gave no title. */
export function problemWords(error: unknown, fallback: string): ProblemWords {
  if (error instanceof ApiProblem)
    return { title: error.problem.title ?? fallback, ...(error.problem.detail === undefined ? {} : { detail: error.problem.detail }) };
  return { title: fallback, detail: error instanceof Error ? error.message : String(error) };
}

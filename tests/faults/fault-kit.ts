import { expect } from 'vitest';
import { api, tokenRequest } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/** An API answer with how long it took, measured at the client. */
export interface TimedAnswer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

export async function timedApi(
  host: TestHost,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<TimedAnswer> {
  const started = performance.now();
  const answer = await api(host, token, method, path, body);
  return { ...answer, ms: performance.now() - started };
}

/** `POST /oauth/token` with a form, as any OAuth client sends it, timed. */
export async function timedTokenRequest(host: TestHost, form: Record<string, string>): Promise<TimedAnswer> {
  const started = performance.now();
  const answer = await tokenRequest(host, form);
  return { ...answer, ms: performance.now() - started };
}

export const refreshGrant = (host: TestHost, refreshToken: string) =>
  timedTokenRequest(host, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'roger-mobile' });

const SERVICE_UNAVAILABLE = 'tag:roger.cloud,2026:problems/service-unavailable';

/** RFC 9457 503 with a Retry-After in whole seconds (RFC 9110 §10.2.3); returns the seconds. */
export function expectUnavailableProblem(answer: TimedAnswer, retryAfter?: string): number {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ type: SERVICE_UNAVAILABLE, status: 503, detail: expect.any(String) });
  expect(JSON.stringify(answer.body)).not.toMatch(/ at |Error:|127\.0\.0\.1|stack/);
  return expectRetryAfter(answer, retryAfter);
}

/** RFC 6749 §5.2 / §4.1.2.1 `temporarily_unavailable` as the /oauth endpoints answer it. */
export function expectOAuthUnavailable(answer: TimedAnswer, retryAfter?: string): number {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  return expectRetryAfter(answer, retryAfter);
}

function expectRetryAfter(answer: TimedAnswer, expected?: string): number {
  const header = answer.headers.get('retry-after');
  expect(header).toMatch(/^[1-9]\d*$/);
  if (expected !== undefined) expect(header).toBe(expected);
  return Number(header);
}

import { apiRequest } from '@roger-cloud/client-kit/http';

/** What the API says about a badge once registered: the number itself never comes back. */
export interface RegisteredBadge {
  readonly id: string;
  readonly label?: string;
  readonly createdAt: string;
}

/**
 * A badge tapped at the panel during a session, registered for the person signed in, who
 * confirms it with their PIN
 * (docs/clients.md#roger-printer): `POST /api/me/badges` with their session token, so the badge
 * becomes theirs and nobody else's. Not retried: a 409 is an answer, and the person is waiting.
 */
export function registerBadge(
  apiUrl: string,
  call: { token: string; signal: AbortSignal },
  badge: { number: string; pin: string; label?: string },
): Promise<RegisteredBadge> {
  return apiRequest<RegisteredBadge>(apiUrl, '/api/me/badges', { ...call, method: 'POST', json: badge });
}

import type { Services } from '../services.js';
import { InvalidAccessToken, verifyAccessToken, type VerifiedAccessToken } from '../tokens/access-token.js';

/**
 * Who is calling, from a verified access token. The tenant comes from the token and nowhere
 * else (SPEC §7): handlers read `tenantId` from here, never from a request body.
 */
export type PrincipalKind = 'user' | 'device' | 'session';

export interface Principal {
  readonly kind: PrincipalKind;
  readonly tenantId: string;
  /** The user (user and session tokens). */
  readonly userId?: string;
  /** The printer (device tokens: the subject; session tokens: the actor). */
  readonly deviceId?: string;
  readonly clientId: string;
  /** Session tokens: the session id (release message ids and correlation). */
  readonly sessionId?: string;
  readonly scopes: ReadonlySet<string>;
  /**
   * No `roles` here on purpose: the token's `roles` claim may be 20 minutes old. Admin
   * decisions rest on the user item read in the request (`RequestContext.currentUser`).
   */
  readonly token: VerifiedAccessToken;
}

export function principalOf(token: VerifiedAccessToken): Principal {
  const scopes = new Set(token.scope.split(' ').filter(Boolean));
  const base = { tenantId: token.tid, clientId: token.client_id, scopes, token };
  if (token.act) return { ...base, kind: 'session', userId: token.sub, deviceId: token.act.sub, sessionId: token.sid ?? token.jti };
  if (scopes.has('device')) return { ...base, kind: 'device', deviceId: token.sub };
  return { ...base, kind: 'user', userId: token.sub };
}

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(headers: Headers): string | undefined {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(headers.get('authorization') ?? '');
  return match?.[1];
}

export type BearerCheck =
  | { readonly ok: true; readonly principal: Principal }
  /** `missing`: no Bearer token at all; `invalid`: one that does not verify. */
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' };

/**
 * The caller of a request, from its `Authorization: Bearer` access token. Callers turn a
 * failure into their own protocol's error (RFC 6750 on /api, `invalid_client` on /oauth).
 */
export async function authenticateBearer(
  headers: Headers,
  { keys, config, now }: Pick<Services, 'keys' | 'config' | 'now'>,
): Promise<BearerCheck> {
  const token = bearerToken(headers);
  if (!token) return { ok: false, reason: 'missing' };
  const issuer = config.oauth.issuer;
  try {
    return { ok: true, principal: principalOf(await verifyAccessToken(keys, { issuer, audience: issuer }, token, now())) };
  } catch (error) {
    if (error instanceof InvalidAccessToken) return { ok: false, reason: 'invalid' };
    throw error;
  }
}

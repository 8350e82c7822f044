import type { Services } from '../services.js';
import { InvalidAccessToken, verifyAccessToken, type VerifiedAccessToken } from '../tokens/access-token.js';

/**
 * Who is calling, from a verified access token: one of three kinds of caller, each with exactly
 * the ids it has, so a handler never asserts that an id is there. The tenant comes from the
 * token and nowhere else (docs/security.md#trust-boundaries): handlers read `tenantId` from here, never from a request body.
 *
 * No `roles` on any of them on purpose: the token's `roles` claim may be 20 minutes old. Admin
 * decisions rest on the user item read in the request (`RequestContext.currentUser`).
 */
interface CallerBase {
  readonly tenantId: string;
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly token: VerifiedAccessToken;
}

/** A person, through an app (mobile, desktop) or the device page. */
export interface UserPrincipal extends CallerBase {
  readonly kind: 'user';
  readonly userId: string;
}

/** An enrolled printer, with its own device token (the printer is the subject). */
export interface PrinterPrincipal extends CallerBase {
  readonly kind: 'device';
  readonly deviceId: string;
}

/** A user signed in at a printer: the user is the subject, the printer the actor (RFC 8693 `act`). */
export interface PrinterSessionPrincipal extends CallerBase {
  readonly kind: 'session';
  readonly userId: string;
  readonly deviceId: string;
  /** Names the session in release message ids and in logs. */
  readonly sessionId: string;
}

export type Principal = UserPrincipal | PrinterPrincipal | PrinterSessionPrincipal;

/** The `kind` values are public: `GET /api/me` answers with them. */
export type PrincipalKind = Principal['kind'];

export type PrincipalOf<K extends PrincipalKind> = Extract<Principal, { readonly kind: K }>;

export function isPrincipalOf<K extends PrincipalKind>(principal: Principal, kinds: readonly K[]): principal is PrincipalOf<K> {
  return (kinds as readonly PrincipalKind[]).includes(principal.kind);
}

/** The user a caller acts for: the person, or the person at the printer. A printer alone has none. */
export const userIdOf = (caller: Principal): string | undefined => (caller.kind === 'device' ? undefined : caller.userId);

/** The printer a caller is, or acts at. */
export const deviceIdOf = (caller: Principal): string | undefined => (caller.kind === 'user' ? undefined : caller.deviceId);

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

import type { AuthorizationRequest } from '../oauth/authorization-request.js';
import type { KeyRing } from '../tokens/key-ring.js';
import { signPageTicket, verifyPageTicket, type PageTicketKind } from './page-ticket.js';

/**
 * Between the sign-in page's steps (email or organization, then the tenant's sign-in options)
 * the browser carries the validated authorization request in a short-lived signed ticket, in a
 * hidden field: the request is checked once, on arrival, and cannot be changed on the way (a
 * different redirect URI or code challenge would need a new signature). Modelled on the device
 * page's ticket, with its own `typ` and audience so neither ever passes as the other or as an
 * access token; bound to the page's CSRF token by its hash, so it only works in the browser it
 * was issued to.
 */
export const AUTHORIZE_TICKET_TYPE = 'roger-authorize+jwt';
/** Long enough to type an email and a password; the request in it is the client's, already checked. */
export const AUTHORIZE_TICKET_LIFETIME_SECONDS = 600;

export interface AuthorizeTicket {
  readonly request: AuthorizationRequest;
  /** Step 2: the tenant found from what was typed at step 1 (absent: none was found). */
  readonly tenantId?: string;
  /** What the person typed at step 1 (or the client's login_hint): prefills the next field. */
  readonly account?: string;
}

export const authorizeTicketAudience = (issuer: string) => `${issuer}/oauth/authorize`;

const kindOf = (issuer: string): PageTicketKind => ({
  type: AUTHORIZE_TICKET_TYPE,
  audience: authorizeTicketAudience(issuer),
  lifetimeSeconds: AUTHORIZE_TICKET_LIFETIME_SECONDS,
  requiredClaims: ['client_id', 'redirect_uri', 'scope', 'code_challenge'],
});

export async function signAuthorizeTicket(keys: KeyRing, issuer: string, ticket: AuthorizeTicket, csrfToken: string, now: Date) {
  const { request } = ticket;
  const claims = {
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scope,
    code_challenge: request.codeChallenge,
    ...(request.state !== undefined ? { state: request.state } : {}),
    ...(ticket.tenantId ? { tid: ticket.tenantId } : {}),
    ...(ticket.account ? { account: ticket.account } : {}),
  };
  return (await signPageTicket(keys, issuer, kindOf(issuer), claims, csrfToken, now)).token;
}

export type AuthorizeTicketCheck =
  | { readonly ok: true; readonly ticket: AuthorizeTicket }
  /** `expired`: genuine but too old, and its request is still the client's: the page may start over with it. */
  | { readonly ok: false; readonly reason: 'expired'; readonly request?: AuthorizationRequest }
  | { readonly ok: false; readonly reason: 'invalid' };

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

function requestOf(payload: Record<string, unknown>): AuthorizationRequest | undefined {
  const { client_id: clientId, redirect_uri: redirectUri, scope, code_challenge: codeChallenge, state } = payload;
  if (![clientId, redirectUri, scope, codeChallenge].every(isString)) return undefined;
  if (state !== undefined && typeof state !== 'string') return undefined;
  return {
    clientId: clientId as string,
    redirectUri: redirectUri as string,
    scope: scope as string,
    codeChallenge: codeChallenge as string,
    ...(state !== undefined ? { state } : {}),
  };
}

/** Checks signature (ES256 only), `typ`, `iss`, `aud`, `exp`/`nbf`, the claims, and the CSRF binding (page-ticket.ts). */
export async function verifyAuthorizeTicket(
  keys: KeyRing,
  issuer: string,
  token: string | undefined,
  csrfToken: string,
  now: Date,
): Promise<AuthorizeTicketCheck> {
  const check = await verifyPageTicket(keys, issuer, kindOf(issuer), token, csrfToken, now);
  if (!check.ok && check.reason === 'invalid') return check;
  const request = requestOf(check.payload);
  if (!check.ok) return { ok: false, reason: 'expired', ...(request ? { request } : {}) };
  if (!request) return { ok: false, reason: 'invalid' };
  const { tid, account } = check.payload;
  return {
    ok: true,
    ticket: { request, ...(isString(tid) ? { tenantId: tid } : {}), ...(isString(account) ? { account } : {}) },
  };
}

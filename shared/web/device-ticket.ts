import type { UserPrincipal } from '../auth/principal.js';
import type { KeyRing } from '../tokens/key-ring.js';
import { signPageTicket, verifyPageTicket, type PageTicketKind } from './page-ticket.js';

/**
 * Between the device page's two steps (sign in, then approve or deny) the browser carries a
 * short-lived ticket in a hidden field, so the password is typed once and never echoed back.
 * It is a JWT signed with the access-token keys but with its own `typ` and audience, so it can
 * never pass as an access token (those pin `typ: at+jwt` and the issuer as audience) and no
 * access token passes as a ticket. It names ids only (tenant, user, role), the user code it was
 * issued for, and a hash of the page's CSRF token, which binds it to the browser it was issued to.
 */
export const DEVICE_TICKET_TYPE = 'roger-device-page+jwt';
export const DEVICE_TICKET_LIFETIME_SECONDS = 120;
/** The client id the page acts as (login history, UserPrincipal). */
export const DEVICE_PAGE_CLIENT_ID = 'roger-web';

export interface DeviceTicket {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: string;
  /** Normalized (no dash, upper case). */
  readonly userCode: string;
}

export interface VerifiedDeviceTicket extends DeviceTicket {
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

export const deviceTicketAudience = (issuer: string) => `${issuer}/device`;

const kindOf = (issuer: string): PageTicketKind => ({
  type: DEVICE_TICKET_TYPE,
  audience: deviceTicketAudience(issuer),
  lifetimeSeconds: DEVICE_TICKET_LIFETIME_SECONDS,
  requiredClaims: ['sub', 'tid', 'role', 'user_code'],
});

export async function signDeviceTicket(
  keys: KeyRing,
  issuer: string,
  ticket: DeviceTicket,
  csrfToken: string,
  now: Date,
): Promise<{ token: string; ticket: VerifiedDeviceTicket }> {
  const claims = { sub: ticket.userId, tid: ticket.tenantId, role: ticket.role, user_code: ticket.userCode };
  const { token, jti, iat, exp } = await signPageTicket(keys, issuer, kindOf(issuer), claims, csrfToken, now);
  return { token, ticket: { ...ticket, jti, iat, exp } };
}

export type TicketCheck =
  | { readonly ok: true; readonly ticket: VerifiedDeviceTicket }
  /** `expired`: genuine but too old; its user code is still worth showing again. */
  | { readonly ok: false; readonly reason: 'expired'; readonly userCode?: string }
  | { readonly ok: false; readonly reason: 'invalid' };

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Checks signature (ES256 only), `typ`, `iss`, `aud`, `exp`/`nbf`, the claims, and the CSRF binding (page-ticket.ts). */
export async function verifyDeviceTicket(
  keys: KeyRing,
  issuer: string,
  token: string | undefined,
  csrfToken: string,
  now: Date,
): Promise<TicketCheck> {
  const check = await verifyPageTicket(keys, issuer, kindOf(issuer), token, csrfToken, now);
  if (!check.ok && check.reason === 'invalid') return check;
  if (!check.ok) {
    const { user_code: userCode } = check.payload;
    return { ok: false, reason: 'expired', ...(isString(userCode) ? { userCode } : {}) };
  }
  const { sub, tid, role, user_code: userCode, jti, iat, exp } = check.payload;
  if (![sub, tid, role, userCode, jti].every(isString) || typeof iat !== 'number' || typeof exp !== 'number') {
    return { ok: false, reason: 'invalid' };
  }
  return {
    ok: true,
    ticket: {
      tenantId: tid as string,
      userId: sub as string,
      role: role as string,
      userCode: userCode as string,
      jti: jti as string,
      iat,
      exp,
    },
  };
}

/**
 * The signed-in user as the approval code expects a caller: a user of the tenant with their
 * role, no scopes, acting through the page. `token` describes the ticket (the credential this
 * principal was verified from); it is not an access token and is never sent anywhere.
 */
export function principalOfTicket(ticket: VerifiedDeviceTicket): UserPrincipal {
  return {
    kind: 'user',
    tenantId: ticket.tenantId,
    userId: ticket.userId,
    clientId: DEVICE_PAGE_CLIENT_ID,
    scopes: new Set<string>(),
    token: {
      sub: ticket.userId,
      client_id: DEVICE_PAGE_CLIENT_ID,
      scope: '',
      tid: ticket.tenantId,
      roles: [ticket.role],
      jti: ticket.jti,
      iat: ticket.iat,
      exp: ticket.exp,
    },
  };
}

import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { UserPrincipal } from '../auth/principal.js';
import type { KeyRing } from '../tokens/key-ring.js';
import { constantTimeEqual, hashSecret, newId } from '../tokens/secrets.js';

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

const ALG = 'ES256';
const CLOCK_TOLERANCE_SECONDS = 5;

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

interface TicketClaims {
  readonly sub: string;
  readonly tid: string;
  readonly role: string;
  readonly user_code: string;
  readonly csrf_sha256: string;
}

export const deviceTicketAudience = (issuer: string) => `${issuer}/device`;

export async function signDeviceTicket(
  keys: KeyRing,
  issuer: string,
  ticket: DeviceTicket,
  csrfToken: string,
  now: Date,
): Promise<{ token: string; ticket: VerifiedDeviceTicket }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + DEVICE_TICKET_LIFETIME_SECONDS;
  const jti = newId();
  const claims: TicketClaims = {
    sub: ticket.userId,
    tid: ticket.tenantId,
    role: ticket.role,
    user_code: ticket.userCode,
    csrf_sha256: hashSecret(csrfToken),
  };
  const token = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: ALG, typ: DEVICE_TICKET_TYPE, kid: keys.signing.kid })
    .setIssuer(issuer)
    .setAudience(deviceTicketAudience(issuer))
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(keys.signing.key);
  return { token, ticket: { ...ticket, jti, iat, exp } };
}

export type TicketCheck =
  | { readonly ok: true; readonly ticket: VerifiedDeviceTicket }
  /** `expired`: genuine but too old; its user code is still worth showing again. */
  | { readonly ok: false; readonly reason: 'expired'; readonly userCode?: string }
  | { readonly ok: false; readonly reason: 'invalid' };

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Checks signature (ES256 only), `typ`, `iss`, `aud`, `exp`/`nbf`, the claims, and the CSRF binding. */
export async function verifyDeviceTicket(
  keys: KeyRing,
  issuer: string,
  token: string | undefined,
  csrfToken: string,
  now: Date,
): Promise<TicketCheck> {
  if (!token) return { ok: false, reason: 'invalid' };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? keys.verificationKey(header.kid) : undefined;
        if (!key) throw new joseErrors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: [ALG],
        typ: DEVICE_TICKET_TYPE,
        issuer,
        audience: deviceTicketAudience(issuer),
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'tid', 'role', 'user_code', 'csrf_sha256', 'jti', 'iat', 'exp', 'nbf'],
      },
    ));
  } catch (error) {
    // jose checks the signature, then typ, iss and aud, and only then the times: an expired
    // ticket's claims are authentic.
    if (error instanceof joseErrors.JWTExpired && isString(error.payload.user_code)) {
      return { ok: false, reason: 'expired', userCode: error.payload.user_code };
    }
    if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired' };
    return { ok: false, reason: 'invalid' };
  }
  const { sub, tid, role, user_code: userCode, csrf_sha256: csrfHash, jti, iat, exp } = payload;
  if (![sub, tid, role, userCode, csrfHash, jti].every(isString) || typeof iat !== 'number' || typeof exp !== 'number') {
    return { ok: false, reason: 'invalid' };
  }
  if (!constantTimeEqual(hashSecret(csrfToken), csrfHash as string)) return { ok: false, reason: 'invalid' };
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

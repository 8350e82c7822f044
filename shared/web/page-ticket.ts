import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { KeyRing } from '../tokens/key-ring.js';
import { constantTimeEqual, hashSecret, newId } from '../tokens/secrets.js';

/**
 * The short-lived tickets the server-rendered pages carry in a hidden field between their steps
 * (device-ticket.ts, authorize-ticket.ts): JWTs signed with the access-token keys (ES256), each
 * kind with its own `typ` and audience so that no ticket passes as another kind or as an access
 * token (those pin `typ: at+jwt`), and bound to the page's CSRF token by its hash so a ticket only
 * works in the browser it was issued to. Each kind says only what its claims are.
 */
export interface PageTicketKind {
  /** The JWT `typ`, e.g. `roger-device-page+jwt`. */
  readonly type: string;
  readonly audience: string;
  readonly lifetimeSeconds: number;
  /** Claims a genuine ticket of this kind always has (besides csrf_sha256, jti, iat, exp, nbf). */
  readonly requiredClaims: readonly string[];
}

const ALG = 'ES256';
const CLOCK_TOLERANCE_SECONDS = 5;

export async function signPageTicket(
  keys: KeyRing,
  issuer: string,
  kind: PageTicketKind,
  claims: Record<string, unknown>,
  csrfToken: string,
  now: Date,
): Promise<{ token: string; jti: string; iat: number; exp: number }> {
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + kind.lifetimeSeconds;
  const jti = newId();
  const token = await new SignJWT({ ...claims, csrf_sha256: hashSecret(csrfToken) })
    .setProtectedHeader({ alg: ALG, typ: kind.type, kid: keys.signing.kid })
    .setIssuer(issuer)
    .setAudience(kind.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(keys.signing.key);
  return { token, jti, iat, exp };
}

export type PageTicketCheck =
  | { readonly ok: true; readonly payload: Record<string, unknown> }
  /** Genuine (signature, typ, iss, aud checked) but too old: its claims may still be shown again. */
  | { readonly ok: false; readonly reason: 'expired'; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly reason: 'invalid' };

/** Checks signature (ES256 only), `typ`, `iss`, `aud`, `exp`/`nbf`, the required claims, and the CSRF binding. */
export async function verifyPageTicket(
  keys: KeyRing,
  issuer: string,
  kind: PageTicketKind,
  token: string | undefined,
  csrfToken: string,
  now: Date,
): Promise<PageTicketCheck> {
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
        typ: kind.type,
        issuer,
        audience: kind.audience,
        currentDate: now,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: [...kind.requiredClaims, 'csrf_sha256', 'jti', 'iat', 'exp', 'nbf'],
      },
    ));
  } catch (error) {
    // jose checks the signature, then typ, iss and aud, and only then the times: an expired
    // ticket's claims are authentic.
    if (error instanceof joseErrors.JWTExpired) return { ok: false, reason: 'expired', payload: error.payload };
    return { ok: false, reason: 'invalid' };
  }
  const { csrf_sha256: csrfHash } = payload;
  if (typeof csrfHash !== 'string' || !constantTimeEqual(hashSecret(csrfToken), csrfHash)) return { ok: false, reason: 'invalid' };
  return { ok: true, payload };
}

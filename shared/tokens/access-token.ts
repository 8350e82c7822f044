import { KeyObject, sign } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type CryptoKey } from 'jose';
import type { KeyRing } from './key-ring.js';
import { newId } from './secrets.js';

/**
 * Access tokens per RFC 9068: a JWT with `typ: at+jwt`, ES256, `kid`, and the claims listed in
 * docs/flows.md#tokens. Verification pins the algorithm (no `none`, no HS/RS confusion) and checks `typ`,
 * `iss`, `aud`, `exp` and `nbf`.
 */
export interface AccessTokenClaims {
  /** The user id, or the device id for a printer's own token. */
  readonly sub: string;
  readonly client_id: string;
  /** Space-separated scopes. */
  readonly scope: string;
  /** Tenant id: every data access of the bearer is scoped by it. */
  readonly tid: string;
  /** Session tokens: the printer the user acts at (RFC 8693 §4.1 actor claim). */
  readonly act?: { readonly sub: string };
  /** Session tokens: the session, so a retried release reuses its message ids (docs/flows.md#release-to-printers). */
  readonly sid?: string;
  readonly roles?: readonly string[];
}

export interface VerifiedAccessToken extends AccessTokenClaims {
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
}

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
  readonly lifetimeSeconds: number;
}

export class InvalidAccessToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidAccessToken';
  }
}

/** The signing key as node:crypto holds it, converted once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();
function keyObjectOf(key: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(key);
  if (!keyObject) {
    // jose's importJWK gives a Web Crypto key in Node; a KeyObject is taken as it is.
    keyObject =
      (key as unknown) instanceof KeyObject ? (key as unknown as KeyObject) : KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key, keyObject);
  }
  return keyObject;
}

const base64urlJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * A JWS in compact form (RFC 7515 §7.1), ES256 (RFC 7518 §3.4: the signature is R and S, 32
 * bytes each). Signed with node:crypto directly: Web Crypto, through which jose signs, cost
 * twice the CPU for the same signature, and every token-issuing request pays it
 * (docs/benchmarks.md). Verification stays with jose (verifyAccessToken).
 */
export async function signAccessToken(
  ring: KeyRing,
  settings: TokenSettings,
  claims: AccessTokenClaims,
  now: Date,
): Promise<{ token: string; expiresIn: number }> {
  const iat = Math.floor(now.getTime() / 1000);
  const header = base64urlJson({ alg: 'ES256', typ: 'at+jwt', kid: ring.signing.kid });
  const payload = base64urlJson({
    ...claims,
    iss: settings.issuer,
    aud: settings.audience,
    iat,
    nbf: iat,
    exp: iat + settings.lifetimeSeconds,
    jti: newId(),
  });
  const signingInput = `${header}.${payload}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key: keyObjectOf(ring.signing.key), dsaEncoding: 'ieee-p1363' });
  return { token: `${signingInput}.${signature.toString('base64url')}`, expiresIn: settings.lifetimeSeconds };
}

const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'client_id', 'scope', 'tid', 'jti', 'iat', 'exp'];

export async function verifyAccessToken(
  ring: KeyRing,
  settings: Omit<TokenSettings, 'lifetimeSeconds'>,
  token: string,
  now: Date,
): Promise<VerifiedAccessToken> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? ring.verificationKey(header.kid) : undefined;
        if (!key) throw new InvalidAccessToken('unknown signing key');
        return key;
      },
      {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: settings.issuer,
        audience: settings.audience,
        currentDate: now,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: 5,
      },
    );
    for (const claim of ['sub', 'client_id', 'scope', 'tid', 'jti'] as const) {
      if (typeof payload[claim] !== 'string') throw new InvalidAccessToken(`claim ${claim} is not a string`);
    }
    return payload as unknown as VerifiedAccessToken;
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw error;
    if (error instanceof joseErrors.JOSEError) throw new InvalidAccessToken(error.code);
    throw new InvalidAccessToken('malformed');
  }
}

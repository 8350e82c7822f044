/**
 * The claims of one of Roger's own access tokens (RFC 9068 JWT), read without verification: the
 * agent only reads what the server that just handed it the token put there (which printer it is,
 * which session), and never decides anything about trust from it. The API verifies every use.
 */
export interface TokenClaims {
  readonly sub?: string;
  readonly jti?: string;
  /** Session tokens: the session (release messages carry it as their correlationId). */
  readonly sid?: string;
  readonly exp?: number;
  readonly scope?: string;
}

export function claimsOf(token: string): TokenClaims {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('the server sent an access token that is not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
}

/** The session a session token belongs to: `sid`, else the token's own id. */
export function sessionIdOf(token: string): string {
  const { sid, jti } = claimsOf(token);
  const id = sid ?? jti;
  if (!id) throw new Error('the session token names no session');
  return id;
}

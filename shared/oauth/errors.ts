/**
 * RFC 6749 §5.2 / RFC 8628 §3.5 error codes: the protocol's own vocabulary, thrown below an
 * /oauth route and turned into the RFC's JSON in one place (shared/http/error-rendering.ts),
 * with `Cache-Control: no-store`. A rate limit is the domain's RateLimited (shared/errors.ts),
 * which /oauth renders as 429 `temporarily_unavailable`: RFC 6749 has no code for it.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token'
  | 'server_error'
  | 'temporarily_unavailable';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }

  /** RFC 6749 §5.2: 400, except 401 for a failed client authentication. */
  get status(): number {
    if (this.error === 'invalid_client') return 401;
    if (this.error === 'server_error') return 500;
    if (this.error === 'temporarily_unavailable') return 503;
    return 400;
  }

  toJSON() {
    return { error: this.error, error_description: this.description };
  }
}

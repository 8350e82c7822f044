import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { isDeactivated } from '../users/activation.js';
import { readUser } from '../users/users.js';
import { issueAuthorizationCode, redirectUriMatches, requireS256Challenge } from './authorization-codes.js';
import { clientById, parseScope, registeredRedirectUris, type OAuthClient } from './clients.js';
import { OAuthError } from './errors.js';

/**
 * The authorization endpoint's request (RFC 6749 §4.1.1 with RFC 7636 PKCE), checked once when
 * the browser arrives at `GET /oauth/authorize` and then carried, signed, through the sign-in
 * page's steps and the Microsoft round trip (docs/flows.md, the authorization code grant).
 */

/** A validated authorization request (RFC 6749 §4.1.1 + RFC 7636), carried between the page's steps and through the Microsoft round trip. Plain JSON. */
export interface AuthorizationRequest {
  readonly clientId: string;
  /** As sent (loopback port included): the token request must send the same (RFC 6749 §4.1.3). */
  readonly redirectUri: string;
  /** Space-separated, already checked against the client. */
  readonly scope: string;
  readonly state?: string;
  /** S256. */
  readonly codeChallenge: string;
}

/** The query parameters the endpoint reads; anything else is ignored (RFC 6749 §3.1). */
export interface AuthorizeQuery {
  readonly response_type?: string;
  readonly client_id?: string;
  readonly redirect_uri?: string;
  readonly scope?: string;
  readonly state?: string;
  readonly code_challenge?: string;
  readonly code_challenge_method?: string;
  readonly login_hint?: string;
}

export const AUTHORIZATION_CODE_GRANT = 'authorization_code';

export type AuthorizationRequestCheck =
  | { readonly outcome: 'valid'; readonly request: AuthorizationRequest; readonly loginHint?: string }
  /**
   * RFC 6749 §4.1.2.1: the client or its redirect URI could not be verified. The browser must
   * not be sent anywhere (an open redirector otherwise): the page shows the error itself.
   */
  | { readonly outcome: 'no-redirect'; readonly reason: 'client' | 'redirect_uri' }
  /** Anything else wrong: said to the client at its verified redirect URI. */
  | { readonly outcome: 'redirect'; readonly url: string; readonly error: string };

/**
 * RFC 6749 §4.1.1 and §3.1.2: the client and its redirect URI first, since only then may an
 * error be sent back to it; then the response type, the client's grant, PKCE and the scope.
 */
export function checkAuthorizationRequest(issuer: string, query: AuthorizeQuery): AuthorizationRequestCheck {
  const client = query.client_id ? clientById(query.client_id) : undefined;
  if (!client) return { outcome: 'no-redirect', reason: 'client' };
  // OAuth 2.1 (and RFC 6749 §3.1.2.3 for clients with several): redirect_uri is always sent.
  const redirectUri = query.redirect_uri;
  if (!redirectUri || !redirectUriMatches(registeredRedirectUris(client, issuer), redirectUri)) {
    return { outcome: 'no-redirect', reason: 'redirect_uri' };
  }
  const back = { redirectUri, ...(query.state !== undefined ? { state: query.state } : {}) };
  const refuse = (error: string, description: string): AuthorizationRequestCheck => ({
    outcome: 'redirect',
    url: authorizationErrorUrl(issuer, back, error, description),
    error,
  });

  if (!query.response_type) return refuse('invalid_request', 'response_type is required');
  if (query.response_type !== 'code') return refuse('unsupported_response_type', 'the only response_type is code');
  if (!allowsCodeGrant(client)) return refuse('unauthorized_client', 'this client may not use the authorization code grant');
  let codeChallenge: string;
  try {
    codeChallenge = requireS256Challenge(query.code_challenge, query.code_challenge_method);
  } catch (error) {
    if (error instanceof OAuthError) return refuse(error.error, error.description);
    throw error;
  }
  const asked = parseScope(query.scope);
  // RFC 6749 §3.3: no scope means the client's default, all it may have.
  const scope = asked.length > 0 ? asked : [...client.scopes];
  if (scope.some((s) => !client.scopes.includes(s))) return refuse('invalid_scope', `allowed scopes: ${client.scopes.join(' ')}`);

  return {
    outcome: 'valid',
    request: {
      clientId: client.id,
      redirectUri,
      scope: scope.join(' '),
      codeChallenge,
      ...(query.state !== undefined ? { state: query.state } : {}),
    },
    ...(query.login_hint ? { loginHint: query.login_hint } : {}),
  };
}

const allowsCodeGrant = (client: OAuthClient) => (client.grants as readonly string[]).includes(AUTHORIZATION_CODE_GRANT);

/** The redirect URI with parameters added to its query, keeping any it was registered with (RFC 6749 §3.1.2). */
function withParameters(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.append(name, value);
  return url.href;
}

/** An error response to the client (RFC 6749 §4.1.2.1, with `iss` and `state`). Only for a request whose client and redirect URI were verified. */
export function authorizationErrorUrl(
  issuer: string,
  request: Pick<AuthorizationRequest, 'redirectUri' | 'state'>,
  error: string,
  description?: string,
): string {
  return withParameters(request.redirectUri, { error, error_description: description, state: request.state, iss: issuer });
}

/**
 * After a successful sign-in (either method): issues the code and returns where to send the
 * browser (RFC 6749 §4.1.2 with `iss`, RFC 9207). The user is read again here; an erased or
 * deactivated user gets no code, and the client is told `access_denied`.
 */
export async function completeAuthorization(
  services: Services,
  request: AuthorizationRequest,
  user: { tenantId: string; userId: string },
  log: Logger,
): Promise<string> {
  const { issuer } = services.config.oauth;
  const current = await readUser(services.store, user.tenantId, user.userId);
  if (!current) {
    log.info('authorization-refused', { tenantId: user.tenantId, userId: user.userId, clientId: request.clientId, reason: 'no-user' });
    return authorizationErrorUrl(issuer, request, 'access_denied', 'the account no longer exists');
  }
  if (isDeactivated(current)) {
    log.info('authorization-refused', { tenantId: user.tenantId, userId: user.userId, clientId: request.clientId, reason: 'deactivated' });
    return authorizationErrorUrl(issuer, request, 'access_denied', 'the account is turned off');
  }
  const { code } = await issueAuthorizationCode(
    services.store,
    {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scope: request.scope,
      tenantId: current.tenantId,
      subjectId: current.id,
    },
    services.now(),
  );
  log.info('authorization-code-issued', { tenantId: current.tenantId, userId: current.id, clientId: request.clientId });
  return withParameters(request.redirectUri, { code, state: request.state, iss: issuer });
}

import type { Logger } from '../../logging/logger.js';
import type { Services } from '../../services.js';
import { RateLimited } from '../../errors.js';
import type { SignInMethod } from '../../telemetry/metric-names.js';
import { OAuthError } from '../errors.js';
import type { TokenResponse } from '../token-response.js';
import * as authorizationCode from './authorization-code.js';
import * as badge from './badge.js';
import * as deviceCode from './device-code.js';
import * as password from './password.js';
import * as pinOnly from './pin-only.js';
import * as refreshToken from './refresh-token.js';

/**
 * The token endpoint's form parameters a grant may read. All optional: each grant checks the
 * ones it needs and answers invalid_request itself, in the words of its RFC.
 */
export interface TokenParameters {
  readonly device_code?: string;
  readonly refresh_token?: string;
  readonly username?: string;
  readonly password?: string;
  readonly scope?: string;
  readonly tenant?: string;
  readonly code?: string;
  readonly redirect_uri?: string;
  readonly code_verifier?: string;
  /** The badge grant (badge.ts): the number a printer's card reader read, and the PIN where the tenant asks for one; the PIN-only grant's PIN (pin-only.ts). */
  readonly badge?: string;
  readonly pin?: string;
}

/** A token request the endpoint has accepted so far: a known client, allowed this grant. */
export interface TokenRequest {
  readonly clientId: string;
  readonly parameters: TokenParameters;
  /** The password grant at a printer authenticates the printer by its Bearer device token. */
  readonly headers: Headers;
  /** The caller's address as the platform's proxies saw it: sign-in failure limits count it. */
  readonly ip: string | undefined;
  readonly log: Logger;
}

export type GrantHandler = (services: Services, request: TokenRequest) => Promise<TokenResponse>;

/**
 * Every grant of the token endpoint, as oidc-provider's lib/actions/grants lists them: each
 * module exports its `grant_type` value and one handler. Adding a grant is a module and a line
 * here; the metadata publishes this list and clients.ts names, per client, the ones it may use.
 */
const grants = [deviceCode, password, refreshToken, authorizationCode, badge, pinOnly] as const;

export type GrantType = (typeof grants)[number]['grantType'];

/** In the order the metadata has always published them (RFC 8414 `grant_types_supported`). */
export const supportedGrantTypes: readonly GrantType[] = grants.map((grant) => grant.grantType);

export interface Grant {
  readonly grantType: GrantType;
  readonly handler: GrantHandler;
}

/**
 * Grants whose every answer is one sign-in attempt, counted here (`roger.sign_ins`). The password
 * badge and PIN-only grants count in signIn itself, which knows a PIN from a password and a lock from a wrong secret.
 * A poll still pending, a malformed request or a wrong client is no attempt.
 */
const countedAs: ReadonlyMap<string, SignInMethod> = new Map([
  [deviceCode.grantType, 'device_code'],
  [refreshToken.grantType, 'refresh'],
  [authorizationCode.grantType, 'authorization_code'],
]);
const FAILED_ATTEMPT: ReadonlySet<string> = new Set(['invalid_grant', 'expired_token', 'access_denied']);

function counted(method: SignInMethod, handler: GrantHandler): GrantHandler {
  return async (services, request) => {
    try {
      const response = await handler(services, request);
      services.telemetry.signIn(method, 'success');
      return response;
    } catch (error) {
      if (error instanceof RateLimited) services.telemetry.signIn(method, 'rate_limited');
      else if (error instanceof OAuthError && FAILED_ATTEMPT.has(error.error)) services.telemetry.signIn(method, 'failure');
      throw error;
    }
  };
}

// A Map, not an object: a grant_type of `constructor` or `__proto__` must be no grant at all.
const byType: ReadonlyMap<string, Grant> = new Map(
  grants.map((grant) => {
    const method = countedAs.get(grant.grantType);
    return [grant.grantType, method ? { grantType: grant.grantType, handler: counted(method, grant.handler) } : grant];
  }),
);

/** The grant a `grant_type` value names, or undefined: unsupported_grant_type (RFC 6749 §5.2). */
export function grantOf(grantType: string): Grant | undefined {
  return byType.get(grantType);
}

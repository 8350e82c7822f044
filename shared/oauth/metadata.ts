import type { Config } from '../config/load-config.js';
import { oauthClients } from './clients.js';
import { supportedGrantTypes } from './grants/index.js';

/**
 * RFC 8414 §2. The authorization endpoint answers `code` only, with S256 PKCE only, and puts
 * `iss` in every response (RFC 9207 §3), which the metadata says so that clients check it.
 */
export function authorizationServerMetadata(config: Config) {
  const issuer = config.oauth.issuer;
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: supportedGrantTypes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...new Set(Object.values(oauthClients).flatMap((client) => client.scopes))],
    service_documentation: `${issuer}/openapi.json`,
  };
}

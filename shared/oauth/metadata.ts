import type { Config } from '../config/load-config.js';
import { oauthClients } from './clients.js';
import { supportedGrantTypes } from './grants/index.js';

/** RFC 8414 §2. There is no authorization endpoint (no browser redirects), hence no response types. */
export function authorizationServerMetadata(config: Config) {
  const issuer = config.oauth.issuer;
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: supportedGrantTypes,
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...new Set(Object.values(oauthClients).flatMap((client) => client.scopes))],
    service_documentation: `${issuer}/openapi.json`,
  };
}

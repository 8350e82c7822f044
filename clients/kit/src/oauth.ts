import * as oauth from 'openid-client';
import { isLoopbackHost } from './discovery.js';

/**
 * The OAuth client of a Roger program: openid-client (unchanged), configured from the regional
 * API's RFC 8414 metadata. Roger's clients are public (no secret). `bearer()` adds a printer's
 * device access token to each request, as the printer authenticates its /oauth calls with it.
 * Plain HTTP is allowed only to this machine (a local run).
 */
export async function oauthClient(apiUrl: string, clientId: string, bearer?: () => string | undefined): Promise<oauth.Configuration> {
  const issuer = new URL(apiUrl);
  const local = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
  const config = await oauth.discovery(issuer, clientId, undefined, oauth.None(), {
    algorithm: 'oauth2',
    ...(local ? { execute: [oauth.allowInsecureRequests] } : {}),
  });
  if (bearer) {
    config[oauth.customFetch] = (url, options) => {
      const token = bearer();
      const headers = { ...(options.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) };
      return fetch(url, { ...options, headers });
    };
  }
  return config;
}

export { oauth };

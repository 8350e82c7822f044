import type { GrantType } from './grants/index.js';

/**
 * The fixed, public OAuth clients (docs/flows.md#sign-in): no client secrets on printers or phones.
 * `grants` are the `grant_type` values each may use, as RFC 7591 client metadata names them
 * (grants/index.ts lists every one); `scopes` is what each client may ever be granted.
 */
export interface OAuthClient {
  readonly id: string;
  readonly grants: readonly GrantType[];
  readonly scopes: readonly string[];
  /**
   * Redirect URIs of the authorization code grant (docs/security.md, authorization codes),
   * matched by redirectUriMatches: a private-use scheme for the phone (RFC 8252 §7.1), loopback
   * on any port for the desktop client (§7.3). One starting with `/` is a path under this
   * region's issuer (the browser app is served by the API's own origin, and each region has its
   * own), resolved by registeredRedirectUris; the table stays static and region-free.
   */
  readonly redirectUris?: readonly string[];
}

/** RFC 8628 §3.4: the device authorization endpoint serves the clients that may use this grant. */
export const DEVICE_CODE_GRANT: GrantType = 'urn:ietf:params:oauth:grant-type:device_code';

/** Our extension grant (grants/badge.ts, docs/flows.md#badge-sign-in): printers only. */
export const BADGE_GRANT: GrantType = 'urn:roger:params:oauth:grant-type:badge';

/** Our extension grant (grants/pin-only.ts, docs/flows.md#pin-only-sign-in): printers only. */
export const PIN_ONLY_GRANT: GrantType = 'urn:roger:params:oauth:grant-type:pin';

export const oauthClients: Readonly<Record<string, OAuthClient>> = {
  'roger-emb': {
    id: 'roger-emb',
    grants: [DEVICE_CODE_GRANT, 'refresh_token', 'password', BADGE_GRANT, PIN_ONLY_GRANT],
    scopes: ['device', 'session', 'jobs:release', 'jobs:submit', 'scan'],
  },
  'roger-mobile': {
    id: 'roger-mobile',
    // The password grant stays for tenants whose policy allows passwords (grants/password.ts).
    grants: ['authorization_code', 'password', 'refresh_token'],
    scopes: ['jobs', 'offline_access'],
    redirectUris: ['cloud.roger.mobile:/oauth2redirect'],
  },
  'roger-desktop': {
    id: 'roger-desktop',
    grants: [DEVICE_CODE_GRANT, 'authorization_code', 'refresh_token'],
    scopes: ['jobs', 'offline_access'],
    redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback'],
  },
  // The browser app: a public client (no secret in a browser), PKCE, rotating refresh tokens.
  'roger-web': {
    id: 'roger-web',
    grants: ['authorization_code', 'refresh_token'],
    scopes: ['jobs', 'offline_access'],
    redirectUris: ['/app/auth/callback'],
  },
};

/** The client's redirect URIs as absolute URIs: an issuer-relative one (`/app/auth/callback`) under `issuer`. */
export function registeredRedirectUris(client: OAuthClient, issuer: string): readonly string[] {
  return (client.redirectUris ?? []).map((uri) => (uri.startsWith('/') ? `${issuer}${uri}` : uri));
}

/**
 * The client with this id. An own-property look-up: `constructor`, `__proto__` or `toString`
 * sent as a client_id must be an unknown client, not something inherited from Object.
 */
export function clientById(id: string): OAuthClient | undefined {
  return Object.hasOwn(oauthClients, id) ? oauthClients[id] : undefined;
}

export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

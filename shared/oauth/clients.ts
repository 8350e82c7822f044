/**
 * The fixed, public OAuth clients of SPEC §3.5 (no client secrets on printers or phones).
 * `scopes` is what each client may ever be granted.
 */
export type GrantType = 'device_code' | 'password' | 'refresh_token';

export interface OAuthClient {
  readonly id: string;
  readonly grants: readonly GrantType[];
  readonly scopes: readonly string[];
}

export const oauthClients: Readonly<Record<string, OAuthClient>> = {
  'roger-emb': {
    id: 'roger-emb',
    grants: ['device_code', 'refresh_token', 'password'],
    scopes: ['device', 'session', 'jobs:release', 'jobs:submit', 'scan'],
  },
  'roger-mobile': { id: 'roger-mobile', grants: ['password', 'refresh_token'], scopes: ['jobs', 'offline_access'] },
  'roger-desktop': { id: 'roger-desktop', grants: ['device_code', 'refresh_token'], scopes: ['jobs', 'offline_access'] },
};

export const GRANT_TYPE_URIS: Readonly<Record<string, GrantType>> = {
  'urn:ietf:params:oauth:grant-type:device_code': 'device_code',
  password: 'password',
  refresh_token: 'refresh_token',
};

/**
 * The client with this id. An own-property look-up: `constructor`, `__proto__` or `toString`
 * sent as a client_id must be an unknown client, not something inherited from Object.
 */
export function clientById(id: string): OAuthClient | undefined {
  return Object.hasOwn(oauthClients, id) ? oauthClients[id] : undefined;
}

/** The grant a `grant_type` value names (own properties only, as for clients). */
export function grantTypeOf(uri: string): GrantType | undefined {
  return Object.hasOwn(GRANT_TYPE_URIS, uri) ? GRANT_TYPE_URIS[uri] : undefined;
}

export function parseScope(scope: string | undefined): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))];
}

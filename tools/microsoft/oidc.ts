/**
 * The OpenID Connect side of the local Entra: per-tenant discovery documents, the signing keys
 * (JWKS), MSAL's instance discovery, and RS256 id_tokens, as the Microsoft identity platform v2.0
 * publishes them. Keys are made at start and live only in memory.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { Account } from './accounts.js';

/** The tenant segments that are not a tenant: their documents carry the `{tenantid}` template. */
const MULTI_TENANT = new Set(['common', 'organizations', 'consumers']);

export const ID_TOKEN_LIFETIME_SECONDS = 3600;

export interface IdTokenInput {
  readonly account: Account;
  readonly clientId: string;
  readonly nonce: string | undefined;
  readonly nowMs: number;
}

export class Oidc {
  readonly #privateKey: KeyObject;
  readonly #jwk: Record<string, unknown>;

  constructor(
    private readonly baseUrl: string,
    privateKey?: KeyObject,
  ) {
    this.#privateKey = privateKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { n, e } = createPublicKey(this.#privateKey).export({ format: 'jwk' });
    // RFC 7638 thumbprint as the key id (Entra's are opaque strings too).
    const kid = createHash('sha256')
      .update(JSON.stringify({ e, kty: 'RSA', n }))
      .digest('base64url');
    this.#jwk = { kty: 'RSA', use: 'sig', kid, n, e, alg: 'RS256', issuer: `${baseUrl}/{tenantid}/v2.0` };
  }

  /** The same provider (same signing key) as seen at another base URL: a second listener's issuers and endpoints. */
  at(baseUrl: string): Oidc {
    return new Oidc(baseUrl, this.#privateKey);
  }

  /** `${url}/{tid}/v2.0`, or the `{tenantid}` template for common/organizations/consumers. */
  issuer(tenantSegment: string): string {
    return `${this.baseUrl}/${MULTI_TENANT.has(tenantSegment.toLowerCase()) ? '{tenantid}' : tenantSegment}/v2.0`;
  }

  /** GET /{tenant}/v2.0/.well-known/openid-configuration */
  discovery(tenantSegment: string): Record<string, unknown> {
    const base = `${this.baseUrl}/${tenantSegment}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${this.baseUrl}/${tenantSegment}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: this.issuer(tenantSegment),
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.baseUrl}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'nbf',
        'auth_time',
        'nonce',
        'name',
        'preferred_username',
        'email',
        'oid',
        'tid',
        'ver',
        'roles',
        'groups',
      ],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: new URL(this.baseUrl).host,
      cloud_graph_host_name: new URL(this.baseUrl).host,
      msgraph_host: new URL(this.baseUrl).host,
    };
  }

  /** GET /{tenant}/discovery/v2.0/keys: one key, shared by every tenant as in Entra. */
  jwks(): Record<string, unknown> {
    return { keys: [this.#jwk] };
  }

  /**
   * GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…: the answer MSAL's
   * instance discovery expects, naming this host as its own (and only) alias.
   */
  instanceDiscovery(tenantSegment: string): Record<string, unknown> {
    const host = new URL(this.baseUrl).host;
    return {
      tenant_discovery_endpoint: `${this.baseUrl}/${tenantSegment}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  }

  /** An RS256 id_token for `account`, issued by its home tenant, for `clientId`. */
  idToken({ account, clientId, nonce, nowMs }: IdTokenInput): string {
    const iat = Math.floor(nowMs / 1000);
    const claims: Record<string, unknown> = {
      aud: clientId,
      iss: `${this.baseUrl}/${account.tenantId}/v2.0`,
      iat,
      nbf: iat,
      exp: iat + ID_TOKEN_LIFETIME_SECONDS,
      ...(nonce === undefined ? {} : { nonce }),
      name: account.displayName,
      oid: account.id,
      preferred_username: account.upn,
      email: account.email,
      ...(account.roles.length > 0 ? { roles: [...account.roles] } : {}),
      ...(account.groups.length > 0 ? { groups: [...account.groups] } : {}),
      // Directory roles (groupMembershipClaims with DirectoryRole): an admin is a Global Administrator.
      ...(account.admin ? { wids: [GLOBAL_ADMINISTRATOR] } : {}),
      // The optional claim `acct`: 0 for a member of the tenant, 1 for a guest.
      acct: account.guest ? 1 : 0,
      // Pairwise: the same user has a different `sub` in every application.
      sub: createHash('sha256').update(`${account.id}|${clientId}`).digest('base64url'),
      tid: account.tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    };
    const header = { typ: 'JWT', alg: 'RS256', kid: this.#jwk.kid };
    const input = `${encode(header)}.${encode(claims)}`;
    const signature = sign('sha256', Buffer.from(input), this.#privateKey).toString('base64url');
    return `${input}.${signature}`;
  }
}

/** The Global Administrator role's template id, as Entra puts it in `wids`. */
const GLOBAL_ADMINISTRATOR = '62e90394-69f5-4237-9190-012177145e10';

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** `client_info`, which MSAL asks for (client_info=1) to key its cache: the user's oid and tid. */
export function clientInfo(account: Account): string {
  return Buffer.from(JSON.stringify({ uid: account.id, utid: account.tenantId })).toString('base64url');
}

export function hasOpenId(scope: string): boolean {
  return scope.split(/\s+/).includes('openid');
}

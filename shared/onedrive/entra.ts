import { createHash } from 'node:crypto';
import { newSecret } from '../tokens/secrets.js';

/**
 * The app as an OAuth client of Microsoft Entra ID (docs/flows.md#onedrive-for-business): authorization code with PKCE
 * (RFC 7636, S256) for the user's one-time consent, then refresh tokens to act for them on
 * Graph. Plain RFC 6749 requests over fetch: MSAL keeps refresh tokens in its own cache and
 * does not hand them out, and the app must store them itself (encrypted) to use them on any
 * instance, later.
 *
 * `Files.ReadWrite`: the signed-in user's own files only. The app works in that user's Print and
 * Scan folders and nowhere else; `.All` would add every file shared with them.
 */
export const GRAPH_SCOPES = 'Files.ReadWrite offline_access';

export interface EntraSettings {
  /** e.g. https://login.microsoftonline.com/organizations */
  readonly authority: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** This region's `/api/onedrive/callback`. */
  readonly redirectUri: string;
}

export interface EntraTokens {
  readonly accessToken: string;
  /** Entra rotates it on use; absent if Entra chose not to (keep the old one then). */
  readonly refreshToken?: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

/**
 * Entra refused the grant (`invalid_grant`): consent withdrawn, the user disabled, the refresh
 * token expired or revoked. The only way back is to connect again.
 */
export class EntraGrantRejected extends Error {
  constructor(readonly errorCodes: readonly number[]) {
    super(`Entra ID rejected the grant (AADSTS${errorCodes.join(', AADSTS') || '?'})`);
    this.name = 'EntraGrantRejected';
  }
}

/** Entra did not answer usefully (down, throttled, misconfigured client): retry later. */
export class EntraUnavailable extends Error {
  constructor(
    detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`Entra ID token endpoint: ${detail}`);
    this.name = 'EntraUnavailable';
  }
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

/** RFC 7636 §4.1–4.2: a 256-bit verifier (43 characters) and its S256 challenge. */
export function newPkce(): Pkce {
  const verifier = newSecret(32);
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

/** One token request to Entra ID (fetch's AbortSignal), so a silent Entra cannot hold a request until the host's limit. */
export const TOKEN_TIMEOUT_MS = 10_000;

export interface EntraClient {
  authorizationUrl(input: { state: string; codeChallenge: string }): string;
  redeemCode(code: string, codeVerifier: string): Promise<EntraTokens>;
  refresh(refreshToken: string): Promise<EntraTokens>;
}

export function createEntraClient(settings: EntraSettings, now: () => Date): EntraClient {
  const tokenEndpoint = `${settings.authority}/oauth2/v2.0/token`;

  async function tokenRequest(parameters: Record<string, string>): Promise<EntraTokens> {
    const body = new URLSearchParams({ client_id: settings.clientId, client_secret: settings.clientSecret, ...parameters });
    let response: Response;
    try {
      response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (error) {
      throw new EntraUnavailable((error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable');
    }
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.ok && typeof json.access_token === 'string') {
      const expiresIn = Number(json.expires_in);
      return {
        accessToken: json.access_token,
        ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
        expiresAt: now().getTime() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300) * 1000,
      };
    }
    if (json.error === 'invalid_grant') {
      throw new EntraGrantRejected(
        Array.isArray(json.error_codes) ? json.error_codes.filter((c): c is number => typeof c === 'number') : [],
      );
    }
    // invalid_client and friends are our configuration, 429/5xx are Entra's: neither is the user's to fix.
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new EntraUnavailable(
      `HTTP ${response.status} ${typeof json.error === 'string' ? json.error : ''}`.trim(),
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }

  return {
    authorizationUrl({ state, codeChallenge }) {
      const url = new URL(`${settings.authority}/oauth2/v2.0/authorize`);
      url.search = new URLSearchParams({
        client_id: settings.clientId,
        response_type: 'code',
        redirect_uri: settings.redirectUri,
        response_mode: 'query',
        scope: GRAPH_SCOPES,
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },
    redeemCode: (code, codeVerifier) =>
      tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: settings.redirectUri,
        code_verifier: codeVerifier,
        scope: GRAPH_SCOPES,
      }),
    refresh: (refreshToken) => tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: GRAPH_SCOPES }),
  };
}

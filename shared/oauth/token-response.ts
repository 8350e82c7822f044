import type { Services } from '../services.js';
import { signAccessToken, type AccessTokenClaims } from '../tokens/access-token.js';

/** RFC 6749 §5.1 successful token response. */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
  readonly refresh_token?: string;
}

export async function tokenResponse(
  { keys, config, now }: Pick<Services, 'keys' | 'config' | 'now'>,
  claims: AccessTokenClaims,
  refreshToken?: string,
): Promise<TokenResponse> {
  const { issuer, accessTokenLifetimeSeconds } = config.oauth;
  const { token, expiresIn } = await signAccessToken(
    keys,
    { issuer, audience: issuer, lifetimeSeconds: accessTokenLifetimeSeconds },
    claims,
    now(),
  );
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    scope: claims.scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

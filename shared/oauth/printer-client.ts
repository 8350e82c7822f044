import { authenticate, bearerToken, type Principal } from '../auth/principal.js';
import type { Services } from '../services.js';
import { InvalidAccessToken } from '../tokens/access-token.js';
import { OAuthError } from './errors.js';

/**
 * An enrolled printer authenticates its /oauth requests with its own device access token
 * (SPEC §3.3, §3.4). A missing or bad one is a failed client authentication: invalid_client.
 */
export async function authenticatePrinter(
  headers: Headers,
  { keys, config, now }: Pick<Services, 'keys' | 'config' | 'now'>,
): Promise<Principal & { deviceId: string }> {
  const token = bearerToken(headers);
  if (!token) throw new OAuthError('invalid_client', 'authenticate as an enrolled printer (Bearer device access token)');
  let principal: Principal;
  try {
    principal = await authenticate(token, keys, config.oauth.issuer, now());
  } catch (error) {
    if (error instanceof InvalidAccessToken) throw new OAuthError('invalid_client', 'the printer access token is not valid');
    throw error;
  }
  if (principal.kind !== 'device' || principal.clientId !== 'roger-emb' || !principal.deviceId) {
    throw new OAuthError('invalid_client', 'only an enrolled printer may make this request');
  }
  return principal as Principal & { deviceId: string };
}

import { authenticateBearer, type PrinterPrincipal } from '../auth/principal.js';
import type { Services } from '../services.js';
import { OAuthError } from './errors.js';

/**
 * An enrolled printer authenticates its /oauth requests with its own device access token
 * (docs/flows.md#sign-in). A missing or bad one is a failed client authentication: invalid_client.
 */
export async function authenticatePrinter(
  headers: Headers,
  services: Pick<Services, 'keys' | 'config' | 'now'>,
): Promise<PrinterPrincipal> {
  const check = await authenticateBearer(headers, services);
  if (!check.ok) {
    throw new OAuthError(
      'invalid_client',
      check.reason === 'missing'
        ? 'authenticate as an enrolled printer (Bearer device access token)'
        : 'the printer access token is not valid',
    );
  }
  const { principal } = check;
  if (principal.kind !== 'device' || principal.clientId !== 'roger-emb' || !principal.deviceId) {
    throw new OAuthError('invalid_client', 'only an enrolled printer may make this request');
  }
  return principal;
}

import type { Services } from '../services.js';
import { clientById } from './clients.js';
import { OAuthError } from './errors.js';
import { checkRefreshToken, parseRefreshToken, withoutFamily } from './refresh-families.js';
import { readTokenOwner, saveTokenOwner } from './token-owners.js';

/**
 * RFC 7009. A refresh token (current or already rotated) revokes its whole family. Access
 * tokens are self-contained JWTs that live 20 minutes; they are not tracked, so revoking one
 * is accepted and does nothing (RFC 7009 §2: the server may not support it for every type).
 * Unknown tokens, and tokens of another client, get 200 as well (§2.2): nothing is revealed.
 */
export async function revokeToken(services: Services, request: { token?: string; client_id?: string }): Promise<void> {
  if (!request.client_id) throw new OAuthError('invalid_request', 'client_id is required');
  if (!clientById(request.client_id)) throw new OAuthError('invalid_client', 'unknown client');
  if (!request.token) throw new OAuthError('invalid_request', 'token is required');

  const token = parseRefreshToken(request.token);
  if (!token) return;
  const owner = await readTokenOwner(services.store, token);
  if (!owner) return;
  const check = checkRefreshToken(owner.refreshFamilies, token, services.now());
  if (check.outcome === 'unknown' || check.family.clientId !== request.client_id) return;
  await saveTokenOwner(services.store, { ...owner, refreshFamilies: withoutFamily(owner.refreshFamilies, check.family.id) });
}

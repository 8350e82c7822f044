import { disconnectDevice } from '../../devices/disconnect.js';
import type { Logger } from '../../logging/logger.js';
import type { Services } from '../../services.js';
import { writeOnLatest } from '../../store/conditional-replace.js';
import { isPreconditionFailed } from '../../store/cosmos-errors.js';
import { parseScope } from '../clients.js';
import { OAuthError } from '../errors.js';
import {
  checkRefreshToken,
  deviceFamilyLifetime,
  formatRefreshToken,
  parseRefreshToken,
  rotateFamily,
  userFamilyLifetime,
  withoutFamily,
  type ParsedRefreshToken,
  type RefreshFamily,
} from '../refresh-families.js';
import { readTokenOwner, saveTokenOwner, type TokenOwner } from '../token-owners.js';
import { tokenResponse } from '../token-response.js';

export const grantType = 'refresh_token';

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): one read of the owner (user or printer), one
 * conditional write. The write is conditional on the ETag, so of two refreshes racing with the
 * same token exactly one wins. A rotated token that comes back revokes its whole family, even
 * when another write to the item races the revocation; a printer whose token lapsed (90 days
 * unused) is marked disconnected (SPEC §3.2).
 */
export async function refreshTokenGrant(
  services: Services,
  clientId: string,
  request: { refresh_token?: string; scope?: string },
  log: Logger,
) {
  const { store, now } = services;
  if (!request.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const token = parseRefreshToken(request.refresh_token);
  if (!token) throw new OAuthError('invalid_grant', 'unknown refresh token');
  const owner = await readTokenOwner(store, token);
  if (!owner) throw new OAuthError('invalid_grant', 'unknown refresh token');

  const time = now();
  const check = checkRefreshToken(owner.refreshFamilies, token, time);
  if (check.outcome === 'unknown') throw new OAuthError('invalid_grant', 'unknown refresh token');
  if (check.family.clientId !== clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');

  if (check.outcome === 'reused' || check.outcome === 'expired') {
    const lapsedPrinter = owner.type === 'device' && check.outcome === 'expired';
    await revokeFamily(services, owner, check.family.id, lapsedPrinter, token, log);
    if (check.outcome === 'reused') {
      log.warn('refresh-token-reuse', { tenantId: token.tenantId, ownerId: token.ownerId, familyId: check.family.id });
      throw new OAuthError('invalid_grant', 'this refresh token was already used; the session is revoked');
    }
    throw new OAuthError('invalid_grant', lapsedPrinter ? 'the printer was disconnected; enroll it again' : 'the refresh token expired');
  }
  if (owner.type === 'device' && owner.status !== 'connected') throw new OAuthError('invalid_grant', 'the printer is disconnected');

  const scope = narrowScope(check.family, request.scope);
  const lifetime = owner.type === 'user' ? userFamilyLifetime : deviceFamilyLifetime;
  const rotated = rotateFamily(check.family, lifetime, time);
  const families = owner.refreshFamilies.map((f) => (f.id === rotated.family.id ? rotated.family : f));
  const updated: TokenOwner =
    owner.type === 'user' ? { ...owner, refreshFamilies: families } : { ...owner, refreshFamilies: families, lastSeenAt: time.toISOString() };
  try {
    await saveTokenOwner(store, updated);
  } catch (error) {
    if (isPreconditionFailed(error)) throw new OAuthError('invalid_grant', 'the refresh token was used concurrently');
    throw error;
  }

  const refreshToken = formatRefreshToken(token.owner, token.tenantId, token.ownerId, token.familyId, rotated.secret);
  const claims =
    owner.type === 'user'
      ? { sub: owner.id, client_id: clientId, scope, tid: owner.tenantId, roles: [owner.role] }
      : { sub: owner.id, client_id: clientId, scope, tid: owner.tenantId };
  return tokenResponse(services, claims, refreshToken);
}

const REVOKE_WRITE_ATTEMPTS = 5;

/**
 * Removes a family (or disconnects a lapsed printer). The write is conditional like every other:
 * when someone changed the item first (412) — a refresh racing with the reused token, often the
 * very successor the revocation must kill — it is read again and the family removed from what
 * is there now. Giving up on a 412 would log the reuse yet leave the family alive.
 */
async function revokeFamily(
  services: Services,
  owner: TokenOwner,
  familyId: string,
  lapsedPrinter: boolean,
  token: ParsedRefreshToken,
  log: Logger,
): Promise<void> {
  const revoked = (current: TokenOwner) =>
    lapsedPrinter && current.type === 'device' ? current.status === 'disconnected' : !current.refreshFamilies.some((f) => f.id === familyId);
  await writeOnLatest(
    owner,
    (current) =>
      lapsedPrinter && current.type === 'device'
        ? disconnectDevice(services, current, log)
        : saveTokenOwner(services.store, { ...current, refreshFamilies: withoutFamily(current.refreshFamilies, familyId) }),
    async () => {
      const current = await readTokenOwner(services.store, token);
      return current && !revoked(current) ? current : undefined; // gone, or a racing request revoked it already
    },
    REVOKE_WRITE_ATTEMPTS,
  );
}

/** RFC 6749 §6: the new access token may have the same or a narrower scope, never wider. */
function narrowScope(family: RefreshFamily, requested: string | undefined): string {
  const granted = parseScope(family.scope);
  const asked = parseScope(requested);
  if (asked.length === 0) return family.scope;
  if (asked.some((s) => !granted.includes(s))) throw new OAuthError('invalid_scope', 'a refresh cannot widen the scope');
  return asked.join(' ');
}

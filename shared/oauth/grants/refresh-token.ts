import { disconnectDevice } from '../../devices/disconnect.js';
import { rereadMicrosoftRole } from '../../microsoft/refresh.js';
import type { Logger } from '../../logging/logger.js';
import type { Services } from '../../services.js';
import { writeOnLatest } from '../../store/conditional-replace.js';
import { isDeactivated } from '../../users/activation.js';
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
import { tokenResponse, type TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

export const grantType = 'refresh_token';

/**
 * RFC 6749 §6 with rotation (RFC 9700 §4.14.2): one read of the owner (user or printer), one
 * conditional write. The owner's item holds all of its families and, for a user, the sign-in
 * state too, so a 412 on that write says only that *some* write came first: a sign-in, an
 * admin's edit, a refresh of another session. The item is then read again and the token checked
 * against its family as it is now: still current, the rotation is applied on top and written
 * again; rotated away, the same token won a concurrent refresh and this one gets invalid_grant
 * (nothing was replayed: the family lives); family gone, invalid_grant. A rotated token that
 * comes back on the first read revokes its whole family, even when another write to the item
 * races the revocation; a printer whose token lapsed (90 days unused) is marked disconnected
 * (docs/flows.md#printer-lifecycle).
 */
export async function handler(services: Services, { clientId, parameters: request, log }: TokenRequest): Promise<TokenResponse> {
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
      services.telemetry.refreshReuse();
      throw new OAuthError('invalid_grant', 'this refresh token was already used; the session is revoked');
    }
    throw new OAuthError('invalid_grant', lapsedPrinter ? 'the printer was disconnected; enroll it again' : 'the refresh token expired');
  }
  if (owner.type === 'device' && owner.status !== 'connected') throw new OAuthError('invalid_grant', 'the printer is disconnected');
  // Deactivation empties the families in the same write (activation.ts), so this token is unknown
  // by now; the item read here says so too, whatever wrote the families since.
  if (owner.type === 'user' && isDeactivated(owner)) throw new OAuthError('invalid_grant', 'the session was ended');
  // A Microsoft user's role is read again from Entra ID first (it may write the user: the
  // rotation below then re-reads it). Password users: no extra request.
  if (owner.type === 'user' && owner.entra) await rereadMicrosoftRole(services, owner, log);

  const scope = narrowScope(check.family, request.scope);
  const lifetime = owner.type === 'user' ? userFamilyLifetime : deviceFamilyLifetime;
  const rotation = await writeOnLatest(
    { owner, family: check.family },
    async ({ owner: current, family }) => {
      const rotated = rotateFamily(family, lifetime, time);
      const families = current.refreshFamilies.map((f) => (f.id === family.id ? rotated.family : f));
      await saveTokenOwner(
        store,
        current.type === 'user'
          ? { ...current, refreshFamilies: families }
          : { ...current, refreshFamilies: families, lastSeenAt: time.toISOString() },
      );
      return { owner: current, secret: rotated.secret };
    },
    async () => stillCurrent(await readTokenOwner(store, token), token, time),
    ROTATE_WRITE_ATTEMPTS,
  );
  if (!rotation) throw new OAuthError('invalid_grant', 'the session was ended'); // the owner was deleted meanwhile
  const { owner: signedIn, secret } = rotation;

  const refreshToken = formatRefreshToken(token.owner, token.tenantId, token.ownerId, token.familyId, secret);
  const claims =
    signedIn.type === 'user'
      ? { sub: signedIn.id, client_id: clientId, scope, tid: signedIn.tenantId, roles: [signedIn.role] }
      : { sub: signedIn.id, client_id: clientId, scope, tid: signedIn.tenantId };
  return tokenResponse(services, claims, refreshToken);
}

/** Each 412 is another write to the owner that won; a user's sessions, sign-ins and admins racing need a few. */
const ROTATE_WRITE_ATTEMPTS = 20;

/**
 * After a lost write: the token's family as the owner holds it now, if the token is still its
 * current one. A token rotated away meanwhile lost to a concurrent refresh with the same token;
 * that is a race, not a replay (the first read saw it current), so the family is not revoked.
 */
function stillCurrent(owner: TokenOwner | undefined, token: ParsedRefreshToken, time: Date): { owner: TokenOwner; family: RefreshFamily } {
  const check = owner ? checkRefreshToken(owner.refreshFamilies, token, time) : ({ outcome: 'unknown' } as const);
  if (check.outcome === 'reused') throw new OAuthError('invalid_grant', 'the refresh token was used concurrently');
  if (!owner || check.outcome !== 'valid') throw new OAuthError('invalid_grant', 'the session was ended');
  if (owner.type === 'device' && owner.status !== 'connected') throw new OAuthError('invalid_grant', 'the printer is disconnected');
  if (owner.type === 'user' && isDeactivated(owner)) throw new OAuthError('invalid_grant', 'the session was ended');
  return { owner, family: check.family };
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
  if (lapsedPrinter && owner.type === 'device') return disconnectDevice(services, owner, log);
  await writeOnLatest(
    owner,
    (current) => saveTokenOwner(services.store, { ...current, refreshFamilies: withoutFamily(current.refreshFamilies, familyId) }),
    async () => {
      const current = await readTokenOwner(services.store, token);
      return current?.refreshFamilies.some((f) => f.id === familyId) ? current : undefined; // gone, or a racing request revoked it already
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

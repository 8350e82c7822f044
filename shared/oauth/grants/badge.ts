import type { Services } from '../../services.js';
import { readTenant } from '../../tenants/tenants.js';
import { findBadgeOwner, normalizeBadgeNumber, recordBadgeUse, type BadgeOwner } from '../../users/badges.js';
import { readSignInDecoy } from '../../users/sign-in-decoy.js';
import { signInUser, type SignInProof } from '../../users/sign-in.js';
import { readUser, type UserDoc } from '../../users/users.js';
import { OAuthError } from '../errors.js';
import { connectedPrinter, printerSessionScope, printerSessionToken, withinFailureLimit } from '../printer-sign-in.js';
import type { TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

/** Our extension grant (RFC 6749 §4.5): an absolute URI under a namespace of ours. */
export const grantType = 'urn:roger:params:oauth:grant-type:badge';

/** One text for every refusal that names a person, so the answer never says which it was. */
const INVALID = 'unknown badge, wrong PIN, or the account is locked';

/**
 * Badge sign-in at a printer (docs/flows.md#badge-sign-in, docs/security.md#badge-sign-in): an
 * enrolled, connected printer (`roger-emb` with its Bearer device token) trades the number its
 * card reader read, and under the tenant's `badge+pin` the person's PIN, for a session token
 * exactly like the PIN command's (sub, act, sid, tid; no refresh token).
 *
 * Abuse controls, each as the PIN command has it:
 *  - the tenant's `badgeSignIn` decides before anything is looked up (off: unauthorized_client);
 *  - each failure counts in the printer's failed sign-in window (`printerFailedSignInLimit`),
 *    with PINs and passwords failed there: guessing badges at one printer ends in a 429;
 *  - an unknown badge makes the same store requests as a known one (the sign-in decoy is read
 *    where the owner would be, and written where the attempt would be recorded) and, with a PIN,
 *    the same argon2 work;
 *  - the owner's account decides as for a PIN: locked, deactivated or erased all answer the one
 *    invalid_grant, and a wrong PIN counts toward the account's lockout (signInUser).
 */
export async function handler(services: Services, { clientId, parameters, headers, ip }: TokenRequest): Promise<TokenResponse> {
  if (clientId !== 'roger-emb') throw new OAuthError('unauthorized_client', 'only an enrolled printer may use the badge grant');
  const printer = await connectedPrinter(services, headers);
  if (!parameters.badge) throw new OAuthError('invalid_request', 'badge is required');
  // The shape of a card number is public (badges.ts): a malformed one names nobody, so it is refused before any look-up.
  const badge = normalizeBadgeNumber(parameters.badge);
  if (!badge) throw new OAuthError('invalid_request', 'badge must be 4 to 64 letters and digits');

  const scope = printerSessionScope(parameters.scope);

  // The printer's tenant is read in the same partition as its device, just now: gone means no sign-in at all.
  const tenant = await readTenant(services.store, printer.tenantId);
  if (!tenant) throw new OAuthError('invalid_client', 'this printer is not enrolled');
  const mode = tenant.policy.badgeSignIn;
  if (mode === 'off') throw new OAuthError('unauthorized_client', 'this organization has not turned on badge sign-in');
  // Under `badge` a PIN sent anyway is ignored: the tenant's policy, not the printer, decides what is checked.
  let proof: SignInProof = { kind: 'none' };
  if (mode === 'badge+pin') {
    if (!parameters.pin) throw new OAuthError('invalid_request', 'pin is required: this organization signs in with a badge and a PIN');
    proof = { kind: 'pin', secret: parameters.pin };
  }

  let found: BadgeOwner | undefined;
  const user = await withinFailureLimit(services, { printerId: printer.deviceId, tenant }, 'badge', async () => {
    const owner = await badgeOwner(services, tenant.id, badge);
    found = owner?.badge;
    return signInUser(services, tenant, owner?.user, { method: 'badge', proof, clientId, ip });
  });
  if (!user) throw new OAuthError('invalid_grant', INVALID);
  // Only now, after a success, a badge found under an older key moves to the current one: done
  // during the look-up, it made a known badge cost more than an unknown one (docs/security.md#badges).
  // Best effort, like the use it records: the person is signed in either way.
  await found?.rekey().catch(() => undefined);
  await recordBadgeUse(services, tenant.id, badge);

  return printerSessionToken(services, { userId: user.id, tenantId: tenant.id, deviceId: printer.deviceId, clientId, scope });
}

/**
 * The badge's owner, at the same store cost whether there is one or not: findBadgeOwner makes
 * the same reads for a known and an unknown number, and the decoy's point read stands in for
 * the user's (an erased owner's read finds nothing, at the same cost).
 */
async function badgeOwner(
  services: Services,
  tenantId: string,
  number: string,
): Promise<{ badge: BadgeOwner; user: UserDoc | undefined } | undefined> {
  const badge = await findBadgeOwner(services, tenantId, number);
  if (badge) return { badge, user: await readUser(services.store, tenantId, badge.userId) };
  await readSignInDecoy(services.store, tenantId);
  return undefined;
}

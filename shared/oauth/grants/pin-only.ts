import type { Services } from '../../services.js';
import { readTenant } from '../../tenants/tenants.js';
import { findPinOwner, type PinOwner } from '../../users/pin-index.js';
import { readSignInDecoy } from '../../users/sign-in-decoy.js';
import { signInUser } from '../../users/sign-in.js';
import { readUser, type UserDoc } from '../../users/users.js';
import { OAuthError } from '../errors.js';
import { connectedPrinter, printerSessionScope, printerSessionToken, withinFailureLimit } from '../printer-sign-in.js';
import type { TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

/** Our extension grant (RFC 6749 §4.5): an absolute URI under a namespace of ours. */
export const grantType = 'urn:roger:params:oauth:grant-type:pin';

/** One text for every refusal that may concern a person. */
const INVALID = 'wrong PIN, or the account is locked';

/**
 * PIN-only sign-in at a printer (docs/flows.md#pin-only-sign-in, docs/security.md#pin-only-sign-in):
 * an enrolled, connected printer (`roger-emb` with its Bearer device token) trades a PIN typed
 * without a username for a session token exactly like the PIN command's (no refresh token).
 *
 *  - Only where the tenant's `pinOnly` is on (else unauthorized_client), decided before any look-up.
 *  - The PIN's holder is found in the PIN index (pin-index.ts: point reads under each lookup
 *    key); a PIN nobody holds reads the sign-in decoy where the holder's item would be read, and
 *    costs the same argon2 work and the same write (signInUser).
 *  - A found holder is still checked with argon2id against the user's hash before any token: the
 *    index only says whom to check. Locked, deactivated and erased holders get the one invalid_grant.
 *  - A wrong PIN names nobody, so no account's lockout counts it: the printer's failure window
 *    (`printerFailedSignInLimit`, shared with the PIN command and badges) is what stops guessing,
 *    and the density rule keeps each guess's odds under `pinDensity` (pin-density.ts).
 *  - A PIN shorter than `pinMinLength` is refused without a look-up: the policy is public, and
 *    such a PIN predates the density the tenant was held to when pinOnly was turned on.
 */
export async function handler(services: Services, { clientId, parameters, headers, ip }: TokenRequest): Promise<TokenResponse> {
  if (clientId !== 'roger-emb') throw new OAuthError('unauthorized_client', 'only an enrolled printer may use the PIN-only grant');
  const printer = await connectedPrinter(services, headers);
  const { pin } = parameters;
  if (!pin) throw new OAuthError('invalid_request', 'pin is required');
  if (!/^[0-9]{4,12}$/.test(pin)) throw new OAuthError('invalid_request', 'pin must be 4 to 12 digits');

  const scope = printerSessionScope(parameters.scope);

  const tenant = await readTenant(services.store, printer.tenantId);
  if (!tenant) throw new OAuthError('invalid_client', 'this printer is not enrolled');
  if (!tenant.policy.pinOnly) throw new OAuthError('unauthorized_client', 'this organization has not turned on PIN-only sign-in');
  // A PIN alone is still a PIN: where the tenant does not allow PINs at printers, it opens nothing.
  if (!tenant.policy.allowedLoginMethods.includes('pin')) {
    throw new OAuthError('unauthorized_client', 'this organization does not allow signing in with a PIN');
  }
  const tooShort = pin.length < tenant.policy.pinMinLength;

  let owner: PinOwner | undefined;
  const user = await withinFailureLimit(services, { printerId: printer.deviceId, tenant }, 'pin', async () => {
    const holder = tooShort ? undefined : await pinHolder(services, tenant.id, pin);
    owner = holder?.owner;
    return signInUser(services, tenant, holder?.user, { method: 'pin', proof: { kind: 'pin', secret: pin }, clientId, ip });
  });
  if (!user) throw new OAuthError('invalid_grant', INVALID);
  // Only now, the PIN proven: moving the entry earlier would cost a held PIN more requests than an unknown one.
  await owner?.rekey();

  return printerSessionToken(services, { userId: user.id, tenantId: tenant.id, deviceId: printer.deviceId, clientId, scope });
}

/**
 * The PIN's holder at the same store cost whether there is one or not: findPinOwner reads under
 * every key either way, and the decoy's point read stands in for the user's.
 */
async function pinHolder(services: Services, tenantId: string, pin: string): Promise<{ owner: PinOwner; user?: UserDoc } | undefined> {
  const owner = await findPinOwner(services, tenantId, pin);
  if (owner) return { owner, user: await readUser(services.store, tenantId, owner.userId) };
  await readSignInDecoy(services.store, tenantId);
  return undefined;
}

import { audit } from '../audit/audit.js';
import { readDevice } from '../devices/devices.js';
import { Conflict, Forbidden, Invalid } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { reserve, type LimitRule } from '../rate-limit.js';
import type { Services } from '../services.js';
import { readTenant } from '../tenants/tenants.js';
import { BadgeTaken, registerBadge, type BadgeDoc } from './badges.js';
import { signInUser } from './sign-in.js';
import { withinSignInFailureLimit } from './sign-in-limits.js';
import type { UserDoc } from './users.js';

/** Registrations a person may try in an hour at printers, whatever their outcome: enough for a new card and a few misreads. */
export const BADGE_REGISTRATIONS_PER_HOUR: LimitRule = { limit: 10, windowSeconds: 3600 };

/** The printer session asking (a session principal's ids). */
export interface PrinterSessionRef {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly clientId: string;
}

/**
 * A badge registered by its person at a printer, during their session (docs/security.md#badges).
 * The session alone does not do: a panel left signed in (20 minutes) would let the next person
 * tie THEIR badge to this account, and answers to it (`badge-taken`) would say which numbers are
 * registered. So, in this order:
 *  - the tenant must use badges (`badgeSignIn` not `off`) and the session's printer be still connected (read now);
 *  - the person must have a PIN, sent in the same request and checked as the PIN command checks
 *    it (argon2id, the account's lockout, the printer's failed sign-in window);
 *  - at most BADGE_REGISTRATIONS_PER_HOUR attempts a person, counted before anything is checked;
 *  - a number taken in the tenant counts as a failed sign-in in the printer's window, so probing
 *    numbers at a printer ends in a 429 as guessing them at its sign-in does.
 * Audited with ids only.
 */
export async function registerBadgeAtPrinter(
  services: Pick<Services, 'store' | 'config' | 'now' | 'telemetry'>,
  session: PrinterSessionRef,
  user: UserDoc,
  input: { readonly number: string; readonly label?: string; readonly pin?: string },
  log: Logger,
): Promise<BadgeDoc> {
  const { store } = services;
  const [tenant, device] = await Promise.all([readTenant(store, session.tenantId), readDevice(store, session.tenantId, session.deviceId)]);
  if (!tenant || tenant.policy.badgeSignIn === 'off') {
    throw new Forbidden('badge sign-in is off in this organization: a badge registered now would sign nobody in', { badgeSignIn: 'off' });
  }
  if (!device || device.status !== 'connected') throw new Forbidden('this printer is no longer connected: sign in at a connected printer');
  if (!user.pinHash) {
    throw new Conflict('you have no PIN, and registering a badge at a printer asks for it: ask an admin to register your badge', {
      reason: 'no-pin',
    });
  }
  if (!input.pin) {
    throw new Invalid('pin is required: registering a badge at a printer asks for your PIN', {
      errors: [{ pointer: '/body/pin', detail: 'required' }],
    });
  }
  const pin = input.pin;
  await reserve(store, `badge-registrations:${session.tenantId}:${session.userId}`, BADGE_REGISTRATIONS_PER_HOUR, services.now());

  const printer = { printerId: session.deviceId, tenant };
  const confirmed = await withinSignInFailureLimit(services, printer, 'pin', () =>
    signInUser(services, tenant, user, { method: 'pin', proof: { kind: 'pin', secret: pin }, clientId: session.clientId }),
  );
  if (!confirmed) throw new Forbidden('wrong PIN, or the account is locked: the badge was not registered');

  const badge = await withinSignInFailureLimit(services, printer, 'badge', async () => {
    try {
      return await registerBadge(services, tenant.id, session.userId, input);
    } catch (error) {
      if (error instanceof BadgeTaken) return undefined; // a failure in the printer's window
      throw error;
    }
  });
  if (!badge) throw new BadgeTaken();
  await audit(store, log, {
    tenantId: tenant.id,
    actorId: session.userId,
    action: 'user.badge-added',
    targetId: session.userId,
    details: { badgeId: badge.badgeId, deviceId: session.deviceId },
    at: services.now(),
  });
  return badge;
}

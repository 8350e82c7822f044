import type { UserPrincipal } from '../auth/principal.js';
import { readDevice } from '../devices/devices.js';
import { enrollPrinter } from '../devices/enroll.js';
import type { Logger } from '../logging/logger.js';
import type { ReleaseOutcome } from '../release/plan.js';
import { releaseQueuedJobs } from '../release/release.js';
import { Conflict, Forbidden, Invalid, NotFound, RateLimited } from '../errors.js';
import { reserve, type LimitRule, type Reservation } from '../rate-limit.js';
import type { Services } from '../services.js';
import { writeOnLatest } from '../store/conditional-replace.js';
import { isPreconditionFailed } from '../store/cosmos-errors.js';
import { qrSessionsAllowed } from '../tenants/policy.js';
import { readTenant } from '../tenants/tenants.js';
import { requireActive } from '../users/activation.js';
import { readUser, updateUser, type UserDoc } from '../users/users.js';
import { oauthDefaults } from './defaults.js';
import {
  normalizeUserCode,
  readByUserCode,
  replaceDeviceCode,
  rereadDeviceCode,
  sessionPrinterOf,
  type DeviceCodeRecord,
} from './device-codes.js';
import { deviceFamilyLifetime, newFamily, userFamilyLifetime, withFamily, type RefreshFamily } from './refresh-families.js';

/**
 * The user's side of RFC 8628 (§3.3): look at a user code, then approve or deny it.
 * Who may answer (docs/flows.md#sign-in):
 *  - printer enrollment (`device`): an admin, as stored now (not as the token's `roles` claim
 *    says: a demoted or erased admin enrolls nothing); the printer joins the admin's tenant;
 *  - a session at a printer (`session`): a user of that printer's tenant, nobody else;
 *  - desktop sign-in: the signed-in user themself.
 * Everything else looks like an unknown code (404), so codes of other tenants are not revealed.
 * Wrong codes count against the caller; past the limit they get 429 (docs/security.md#rate-limits).
 */
export const userCodeMissKey = (tenantId: string, userId: string | undefined) => `user-code-miss:${tenantId}:${userId}`;
export const userCodeMissRule: LimitRule = {
  limit: oauthDefaults.userCodeMissesPerWindow,
  windowSeconds: oauthDefaults.userCodeMissWindowSeconds,
};

const notFound = () => new NotFound('no pending request has this code; check it and try again');

/** The approving user as read now: a deactivated one starts no session, enrolls no printer, signs in no desktop (401). */
const activeUser = (user: UserDoc | undefined) => user && requireActive(user);

/**
 * Each look-up reserves one of the caller's wrong-code slots before it reads the code, and a
 * code found gives it back: so no more than the limit of wrong codes are ever answered, however
 * many are sent at once (counting only after a miss let 60 parallel guesses through 30 times).
 */
async function findForCaller(services: Services, caller: UserPrincipal, userCode: string): Promise<DeviceCodeRecord> {
  const { store, now } = services;
  let slot: Reservation;
  try {
    slot = await reserve(store, userCodeMissKey(caller.tenantId, caller.userId), userCodeMissRule, now(), { refundable: true });
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    throw new RateLimited(error.retryAfterSeconds, 'too many wrong codes; wait a few minutes');
  }
  const normalized = normalizeUserCode(userCode);
  const record = normalized ? await readByUserCode(store, normalized, now()) : undefined;
  const visible =
    record &&
    (record.scope === 'device'
      ? activeUser(await readUser(store, caller.tenantId, caller.userId))?.role === 'admin'
      : record.scope === 'session'
        ? record.tenantId === caller.tenantId
        : true);
  if (!record || !visible) throw notFound();
  await slot.giveBack();
  return record;
}

export async function describeUserCode(services: Services, caller: UserPrincipal, userCode: string) {
  const record = await findForCaller(services, caller, userCode);
  const asking = record.scope === 'session' ? sessionPrinterOf(record) : undefined;
  const printer = asking ? await readDevice(services.store, asking.tenantId, asking.deviceId) : undefined;
  return {
    clientId: record.clientId,
    scope: record.scope,
    expiresAt: record.expiresAt,
    printer: printer ? { id: printer.id, name: printer.name, location: printer.location } : null,
  };
}

export async function denyUserCode(services: Services, caller: UserPrincipal, userCode: string): Promise<void> {
  const record = await findForCaller(services, caller, userCode);
  await settle(services, record, { status: 'denied' });
}

/**
 * Answers a pending code: the record with `answer` applied, written conditionally. A 412 has
 * two causes. Another answer won: the code is no longer pending, and this one gets 409. Or the
 * device polled in between (a poll records its time on the same item): the answer is applied
 * to what the poll left and written again — a poll must never make an approval fail.
 */
async function settle(services: Services, record: DeviceCodeRecord, answer: Partial<DeviceCodeRecord>): Promise<void> {
  const written = await writeOnLatest(
    record,
    (current) => replaceDeviceCode(services.store, { ...current, ...answer }),
    async (current) => {
      const latest = await rereadDeviceCode(services.store, current);
      return latest?.status === 'pending' ? latest : undefined;
    },
    SETTLE_WRITE_ATTEMPTS,
  ).catch((error: unknown) => {
    if (isPreconditionFailed(error)) return undefined;
    throw error;
  });
  if (!written) throw new Conflict('this code was answered already');
}

/** Polls come at most every few seconds, so one retry is nearly always enough. */
const SETTLE_WRITE_ATTEMPTS = 4;

export interface ApprovalResult {
  /** Enrollment: the new printer. */
  readonly deviceId?: string;
  /** Session: what happened to the user's queued jobs (released on approval: docs/flows.md#release-to-printers). */
  readonly release?: ReleaseOutcome;
}

/**
 * What an approval may carry: a printer's name and location (enrollment), and the jobs to release
 * (a session; all queued when left out: docs/flows.md#choosing-jobs-at-the-printer).
 */
export interface ApprovalDetails {
  readonly name?: string;
  readonly location?: string;
  readonly jobIds?: readonly string[];
}

export async function approveUserCode(
  services: Services,
  caller: UserPrincipal,
  userCode: string,
  details: ApprovalDetails,
  log: Logger,
): Promise<ApprovalResult> {
  const { store, now } = services;
  const record = await findForCaller(services, caller, userCode);
  const time = now();
  // Jobs are chosen only for a session at a printer; said before anything is answered.
  if (details.jobIds && record.scope !== 'session') {
    throw new Invalid('only a session at a printer releases jobs', {
      errors: [{ pointer: '/body/jobIds', detail: 'is only for a session at a printer' }],
    });
  }

  if (record.scope === 'device') {
    const family = newInitialFamily(record, deviceFamilyLifetime, time);
    const device = await enrollPrinter(
      services,
      caller,
      details,
      family,
      (printer) =>
        settle(services, record, { status: 'approved', tenantId: caller.tenantId, subjectId: printer.id, refreshFamilyId: family.id }),
      log,
    );
    return { deviceId: device.id };
  }

  const user = activeUser(await readUser(store, caller.tenantId, caller.userId));
  if (!user) throw notFound();
  if (record.scope === 'session') {
    const tenant = await readTenant(store, caller.tenantId);
    if (!tenant || !qrSessionsAllowed(tenant.policy)) throw new Forbidden('this organization has turned off QR sign-in at printers');
    await settle(services, record, { status: 'approved', subjectId: user.id });
    services.telemetry.signIn('qr', 'success'); // a session at the printer begins
    // The user just read is the owner whose print rights apply: no second read (docs/flows.md#print-rights).
    const release = await releaseQueuedJobs(
      services,
      { tenantId: caller.tenantId, userId: user.id, deviceId: sessionPrinterOf(record).deviceId, sessionId: record.id },
      log,
      { owner: user, ...(details.jobIds ? { jobIds: details.jobIds } : {}) },
    );
    return { release };
  }
  // Desktop sign-in: the refresh family is written into the user now, so the poll that
  // collects the tokens only has to consume the code.
  let familyId: string | undefined;
  if (record.initialRefreshHash) {
    const family = newInitialFamily(record, userFamilyLifetime, time);
    familyId = family.id;
    await updateUser(store, user, (current) => {
      activeUser(current); // deactivated since the read: that write emptied the families, and none may come back
      return { ...current, refreshFamilies: withFamily(current.refreshFamilies, family, oauthDefaults.familiesPerUser, time) };
    });
  }
  try {
    await settle(services, record, {
      status: 'approved',
      tenantId: caller.tenantId,
      subjectId: user.id,
      roles: [user.role],
      ...(familyId ? { refreshFamilyId: familyId } : {}),
    });
  } catch (error) {
    // Another approval of this code won: nobody will ever hold a token of our family, and left
    // behind it would take one of the user's family slots. Best effort.
    if (familyId) {
      const orphan = familyId;
      await updateUser(store, user, (current) => ({
        ...current,
        refreshFamilies: current.refreshFamilies.filter((f) => f.id !== orphan),
      })).catch(() => undefined);
    }
    throw error;
  }
  return {};
}

/** The secret is unknown here (only the device code's holder can derive it); its hash is not. */
function newInitialFamily(record: DeviceCodeRecord, lifetime: typeof userFamilyLifetime, now: Date): RefreshFamily {
  return newFamily(record.clientId, record.scope, record.initialRefreshHash!, lifetime, now);
}

import { Type } from '@sinclair/typebox';
import { audit, ERASED_USER, type Actor } from '../audit/audit.js';
import { Conflict, Forbidden, NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { userProblem } from '../tenants/onboarding.js';
import { generatedPinLength, type TenantPolicy } from '../tenants/policy.js';
import { readTenant } from '../tenants/tenants.js';
import { isConflict } from '../store/cosmos-errors.js';
import { queryPage, type PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';
import { hashCredential } from '../tokens/credential-hash.js';
import { putOnRoster, takeOffRoster } from './admin-roster.js';
import { drawIndexedPin, dropReplacedEntry, unclaimPin, withPinEntry } from './pin-index.js';
import { eraseUser, type ErasureCounts } from './data-rights.js';
import {
  checkCredentialPolicy,
  claimLoginName,
  createUser,
  hashCredentials,
  readUser,
  releaseLoginName,
  updateUser,
  type NewUser,
  type Role,
  type UserDoc,
} from './users.js';

/**
 * What admins manage about users (docs/flows.md#administration), in the tenant's partition only.
 * The use cases (addUser, editUser, setUserCredentials, issueNewPin, eraseAccount) each write
 * their audit record: ids, field names and counts, never what was typed.
 */

/** A page of the tenant's users by username; `text` matches username, email or full name, ignoring case. */
export function listUsers(store: Store, tenantId: string, page: PageRequest & { text?: string }) {
  const text = page.text?.normalize('NFKC').trim().toLowerCase();
  const match = text
    ? ' AND (CONTAINS(LOWER(c.username), @text) OR CONTAINS(LOWER(c.email), @text) OR CONTAINS(LOWER(c.fullName), @text))'
    : '';
  const query = {
    query: `SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'user'${match} ORDER BY c.username`,
    parameters: [{ name: '@tenantId', value: tenantId }, ...(text ? [{ name: '@text', value: text }] : [])],
  };
  return queryPage<UserDoc>(store.container('accounts'), query, tenantId, page);
}

async function count(store: Store, tenantId: string, condition: string): Promise<number> {
  const { resources } = await store
    .container('accounts')
    .items.query<number>(
      {
        query: `SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @tenantId AND c.type = 'user'${condition}`,
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources[0] ?? 0;
}

export const countUsers = (store: Store, tenantId: string) => count(store, tenantId, '');

/**
 * Whether the identity provider owns this user's role: a user it provisions over SCIM, in a tenant
 * whose policy names the Entra admin group (`entraAdminGroupId`). Membership of that group, sent
 * over SCIM, is then the only thing that changes the role (shared/scim/groups.ts): neither a
 * Microsoft sign-in's claims, nor a refresh, nor the admin API (docs/provisioning.md).
 */
export const roleOwnedByDirectory = (policy: Pick<TenantPolicy, 'entraAdminGroupId'>, user: Pick<UserDoc, 'scim'>): boolean =>
  user.scim !== undefined && Boolean(policy.entraAdminGroupId);

/** What the identity provider owns of a user it provisions; the admin API changes none of it. */
const DIRECTORY_FIELDS = ['email', 'username', 'fullName'] as const;

export interface UserChanges {
  readonly email?: string;
  readonly username?: string;
  readonly fullName?: string;
  readonly role?: Role;
}

/**
 * Changes a user. A new username or email is claimed first (409 when taken) and the old one
 * released after the user is written, so a failure leaves the old names working. The change is
 * applied on top of whatever the user item holds when it is written: a sign-in or refresh that
 * wrote first is kept, not overwritten, and does not make the admin's change fail.
 *
 * A tenant never loses its last admin, even when admins demote each other at the same moment:
 * see admin-roster.ts. A demoted admin is off the roster before the role goes; if writing the
 * user then fails, they are put back.
 */
export async function changeUser(store: Store, user: UserDoc, changes: UserChanges): Promise<UserDoc> {
  const renamed = (['username', 'email'] as const).filter(
    (field) => changes[field] !== undefined && changes[field]!.trim() !== user[field],
  );
  const claimed: string[] = [];
  let offRoster = false;
  try {
    for (const field of renamed) {
      try {
        claimed.push(await claimLoginName(store, user.tenantId, changes[field]!.trim(), user.id));
      } catch (error) {
        if (isConflict(error)) throw new Conflict(`this ${field} is taken`, { field });
        throw error;
      }
    }
    // Whatever role this request read: the user may have been promoted since (a no-op when
    // they are not on the roster, and then nobody can be counting on them as an admin).
    if (changes.role === 'user') {
      await takeOffRoster(store, user.tenantId, user.id);
      offRoster = true;
    }
    const apply = (current: UserDoc): UserDoc => {
      // Another admin renamed the user meanwhile: the name this request claimed would be left
      // pointing at them, so it gives way (its claim is released below).
      const renamedMeanwhile = renamed.find((field) => current[field] !== user[field]);
      if (renamedMeanwhile)
        throw new Conflict(`the ${renamedMeanwhile} was changed at the same time; read the user again`, { field: renamedMeanwhile });
      return {
        ...current,
        ...(changes.email !== undefined ? { email: changes.email.trim() } : {}),
        ...(changes.username !== undefined ? { username: changes.username.trim() } : {}),
        ...(changes.fullName !== undefined ? { fullName: changes.fullName.trim() } : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
      };
    };
    const updated = await updateUser(store, user, apply);
    if (!updated) throw new NotFound('no such user');
    offRoster = false; // the role is gone for good: nothing below may put them back
    if (changes.role === 'admin') await putOnRoster(store, user.tenantId, user.id);
    for (const field of renamed) await releaseLoginName(store, user.tenantId, user[field]);
    return updated;
  } catch (error) {
    await Promise.all(
      claimed.map((id) =>
        store
          .container('accounts')
          .item(id, user.tenantId)
          .delete()
          .catch(() => undefined),
      ),
    );
    // The role did not go (the user is gone, or the store failed): if they are still an admin,
    // the roster must list them again.
    if (offRoster) await restoreToRoster(store, user.tenantId, user.id);
    throw error;
  }
}

/** Puts an admin back on the roster after a removal whose role change did not happen. Best effort. */
export async function restoreToRoster(store: Store, tenantId: string, userId: string): Promise<void> {
  const current = await readUser(store, tenantId, userId).catch(() => undefined);
  if (current?.role === 'admin') await putOnRoster(store, tenantId, userId).catch(() => undefined);
}

/**
 * An admin's PIN reset: a random PIN (longer as the tenant fills the PIN space), shown once to
 * the admin and stored only as its argon2id hash. Like any credential reset, it clears a lock
 * and ends the user's sign-ins everywhere. Being random, it is claimed in the PIN index too
 * (pin-index.ts: a draw someone holds is drawn again), so it serves PIN-only sign-in
 * (docs/security.md#pin-only-sign-in); the user's previous entry goes once the new hash is written.
 */
export async function resetPin(
  services: Pick<Services, 'store' | 'config'>,
  tenantId: string,
  userId: string,
  policy: TenantPolicy,
  log: Pick<Logger, 'warn'>,
): Promise<string | undefined> {
  const { store } = services;
  const length = generatedPinLength(policy, await countUsers(store, tenantId));
  const { pin, entryId } = await drawIndexedPin(services, tenantId, userId, length);
  // The user item names its entry in the same write as the hash (pin-index.ts withPinEntry).
  const change = withPinEntry(entryId, (current) => ({ ...current, pinHash, lockout: { failures: 0, locks: 0 }, refreshFamilies: [] }));
  let pinHash: string;
  try {
    // Hashed before the user is read, and applied on top of any sign-in or refresh that writes the
    // user meanwhile: those are frequent (anyone can make wrong sign-ins) and must not make it fail.
    pinHash = await hashCredential(pin);
    const user = await readUser(store, tenantId, userId);
    const updated = user && (await updateUser(store, user, change.apply));
    if (!updated) {
      await unclaimPin(store, tenantId, entryId);
      return undefined;
    }
  } catch (error) {
    await unclaimPin(store, tenantId, entryId);
    throw error;
  }
  // The new PIN is the user's now: dropping the entry it replaced is best effort, never a 500.
  await dropReplacedEntry(store, log, tenantId, change.replaced(), entryId);
  return pin;
}

/** One sign-in as the API shows it. */
export const LoginSchema = Type.Object({
  at: Type.String({ format: 'date-time' }),
  clientId: Type.String(),
  method: Type.String(),
  success: Type.Boolean(),
  ip: Type.Optional(Type.String({ description: 'Only when the tenant policy keeps IP addresses.' })),
});

/** An admin adds a user to their tenant, with a password and/or a PIN the tenant's policy accepts. */
export async function addUser(
  services: Services,
  admin: Actor,
  input: Omit<NewUser, 'role'> & { role?: Role },
  log: Logger,
): Promise<UserDoc> {
  const tenant = await readTenant(services.store, admin.tenantId);
  if (!tenant) throw new Forbidden('the tenant no longer exists');
  try {
    const user = await createUser(services, tenant.id, tenant.policy, { ...input, role: input.role ?? 'user' });
    await audit(services.store, log, {
      tenantId: tenant.id,
      actorId: admin.userId,
      action: 'user.created',
      targetId: user.id,
      details: { role: user.role },
      at: services.now(),
    });
    return user;
  } catch (error) {
    throw userProblem(error);
  }
}

/**
 * An admin changes a user's names or role (see changeUser). A user provisioned over SCIM keeps
 * what the identity provider owns: a change of their email, username or full name (and of their
 * role, where roleOwnedByDirectory) is refused with 409 `managed-by-directory`, naming the fields.
 */
export async function editUser(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  user: UserDoc,
  changes: UserChanges,
  log: Logger,
): Promise<UserDoc> {
  if (user.scim) await refuseDirectoryFields(store, user, changes);
  const updated = await changeUser(store, user, changes);
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'user.changed',
    targetId: updated.id,
    details: { fields: Object.keys(changes) },
    at: now(),
  });
  return updated;
}

async function refuseDirectoryFields(store: Store, user: UserDoc, changes: UserChanges): Promise<void> {
  const fields: string[] = DIRECTORY_FIELDS.filter((field) => changes[field] !== undefined && changes[field]!.trim() !== user[field]);
  if (changes.role !== undefined && changes.role !== user.role) {
    const tenant = await readTenant(store, user.tenantId);
    if (tenant && roleOwnedByDirectory(tenant.policy, user)) fields.push('role');
  }
  if (fields.length === 0) return;
  throw new Conflict(
    `${fields.join(', ')} of this user ${fields.length > 1 ? 'are' : 'is'} provisioned by your identity provider over SCIM; change ${fields.length > 1 ? 'them' : 'it'} there`,
    { fields },
    'managed-by-directory',
  );
}

/**
 * An admin sets a user's PIN and/or password. New credentials end every existing sign-in and
 * clear a lock: a reset after a suspected leak must lock the thief out.
 */
export async function setUserCredentials(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  userId: string,
  credentials: { pin?: string; password?: string },
  log: Logger,
): Promise<void> {
  const tenant = await readTenant(store, admin.tenantId);
  if (!tenant) throw new NotFound('no such user');
  try {
    checkCredentialPolicy(tenant.policy, credentials);
  } catch (error) {
    throw userProblem(error);
  }
  // Hashed before the user is read: argon2's time between the read and the write would let
  // every sign-in or refresh of this user win the item first.
  const hashes = await hashCredentials(credentials);
  const user = await readUser(store, admin.tenantId, userId);
  // Applied on top of whatever a racing sign-in or refresh wrote, never undone by it.
  const reset = (current: UserDoc): UserDoc => ({ ...current, ...hashes, lockout: { failures: 0, locks: 0 }, refreshFamilies: [] });
  // A chosen PIN is never indexed: the user item stops naming an entry, and the one it named goes.
  const change = credentials.pin !== undefined ? withPinEntry(undefined, reset) : undefined;
  const updated = user && (await updateUser(store, user, change?.apply ?? reset));
  if (!updated) throw new NotFound('no such user');
  if (change) await dropReplacedEntry(store, log, admin.tenantId, change.replaced(), undefined);
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'user.credentials-set',
    targetId: updated.id,
    details: { fields: Object.keys(credentials) },
    at: now(),
  });
}

/** An admin gives a user a new random PIN (see resetPin), shown once: the answer is the only copy. */
export async function issueNewPin(
  services: Pick<Services, 'store' | 'now' | 'config'>,
  admin: Actor,
  userId: string,
  log: Logger,
): Promise<string> {
  const { store, now } = services;
  const tenant = await readTenant(store, admin.tenantId);
  if (!tenant) throw new NotFound('the tenant no longer exists');
  const pin = await resetPin(services, admin.tenantId, userId, tenant.policy, log);
  if (pin === undefined) throw new NotFound('no such user');
  await audit(store, log, { tenantId: admin.tenantId, actorId: admin.userId, action: 'user.pin-reset', targetId: userId, at: now() });
  return pin;
}

/**
 * An admin erases a user of their tenant (themself included): see eraseAccountAs. The audit
 * record names an admin who erased themself as `erased-user`.
 */
export async function eraseAccount(services: Pick<Services, 'store' | 'now'>, admin: Actor, userId: string, log: Logger): Promise<void> {
  await eraseAccountAs(services, { tenantId: admin.tenantId, actorId: admin.userId }, userId, log);
}

/**
 * Erases a user of the tenant (see eraseUser) on behalf of `actorId`: an admin, or a SCIM token
 * (scimActorId) when the identity provider deletes the user. Idempotent: undefined when there
 * was nothing to erase. Audited with counts only; an actor who erased themself becomes
 * `erased-user`. The tenant's last admin is refused (Conflict, admin-roster.ts).
 */
export async function eraseAccountAs(
  { store, now }: Pick<Services, 'store' | 'now'>,
  { tenantId, actorId }: { readonly tenantId: string; readonly actorId: string },
  userId: string,
  log: Logger,
): Promise<ErasureCounts | undefined> {
  // Off the admin roster first, whatever role was read (409 if the last admin; a no-op for
  // anyone not on it), and back on it if the erasure fails while they are still an admin.
  await takeOffRoster(store, tenantId, userId);
  const counts = await eraseUser(store, tenantId, userId, now()).catch(async (error: unknown) => {
    await restoreToRoster(store, tenantId, userId);
    throw error;
  });
  if (!counts) return undefined;
  const by = actorId === userId ? ERASED_USER : actorId;
  await audit(store, log, { tenantId, actorId: by, action: 'user.erased', details: { ...counts }, at: now() });
  log.info('user-erased', { by, jobs: counts.jobs });
  return counts;
}

import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { deleteIfUnchanged } from '../store/conditional-replace.js';
import { isConflict } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import type { Tenant } from '../tenants/tenants.js';
import { newId } from '../tokens/secrets.js';
import { isDeactivated } from './activation.js';
import { changeUser, roleOwnedByDirectory } from './admin.js';
import { putOnRoster } from './admin-roster.js';
import { findUserByExternalId } from './external-id.js';
import { hasSignedIn } from './login-records.js';
import { claimLoginName, readUser, releaseLoginName, updateUser, type Role, type UserDoc } from './users.js';

/**
 * Microsoft users (docs/flows.md, Sign in with Microsoft): a person is their Entra tenant id and
 * object id (`tid`, `oid`), never their email. The pair names the user through a point-readable
 * look-up item `entra:<tid>:<oid>` in the tenant's partition, like the `login:` items; a sign-in
 * is then one look-up read and one user read. An unknown person is created just in time when the
 * tenant's policy allows it, from the id_token's name and email, without password or PIN.
 */
interface EntraIdentityDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'entra-identity';
  readonly userId: string;
  readonly _etag?: string;
}

/** What the id_token says about the person (already verified). */
export interface EntraPerson {
  readonly tid: string;
  readonly oid: string;
  readonly name?: string;
  readonly email?: string;
  readonly preferredUsername?: string;
  /** From the `roles` (Roger.Admin) or `groups` (policy.entraAdminGroupId) claim. */
  readonly role: Role;
}

export const entraIdentityId = (tid: string, oid: string) => `entra:${tid.toLowerCase()}:${oid.toLowerCase()}`;

/** The app role a customer assigns in their enterprise application to make someone an admin here. */
export const ADMIN_APP_ROLE = 'Roger.Admin';

/** Admin when the token holds the app role, or the group the tenant's policy names. */
export function roleFromClaims(claims: { roles?: unknown; groups?: unknown }, adminGroupId: string | undefined): Role {
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const groups = Array.isArray(claims.groups) ? claims.groups : [];
  if (roles.includes(ADMIN_APP_ROLE)) return 'admin';
  if (adminGroupId && groups.some((group) => typeof group === 'string' && group.toLowerCase() === adminGroupId.toLowerCase()))
    return 'admin';
  return 'user';
}

/**
 * Entra's built-in directory roles that may grant tenant-wide admin consent (their role template
 * ids, as the `wids` claim carries them): Global Administrator, Privileged Role Administrator,
 * Cloud Application Administrator, Application Administrator.
 */
export const CONSENT_GRANTING_DIRECTORY_ROLES: readonly string[] = [
  '62e90394-69f5-4237-9190-012177145e10',
  'e8611ab8-c189-46e8-94e1-60213ab1f814',
  '158c047a-c907-4556-b7ef-446551a6b5f7',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
];

/**
 * Whether the account that signed in after an admin consent may connect its organisation to a
 * Roger tenant: a member of that organisation (not a guest: the optional `acct` claim is 1 for
 * one), holding the `Roger.Admin` app role or a directory role that can grant admin consent
 * (`wids`, which the app registration asks for: docs/operations.md). Anyone else of the
 * organisation, who could not have granted the consent, cannot finish it.
 */
export function mayConnectOrganisation(claims: { roles?: unknown; wids?: unknown; acct?: unknown }): boolean {
  if (claims.acct === 1 || claims.acct === '1') return false;
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const wids = Array.isArray(claims.wids) ? claims.wids : [];
  return (
    roles.includes(ADMIN_APP_ROLE) ||
    wids.some((id) => typeof id === 'string' && CONSENT_GRANTING_DIRECTORY_ROLES.includes(id.toLowerCase()))
  );
}

/** Not provisioned: the tenant's policy turned just-in-time provisioning off, and an admin has not created them. */
export class NotProvisioned extends Error {}
/** The token's email belongs to another user of the tenant: not matched by email, and not created beside them. */
export class EmailTaken extends Error {}
/** The person's user is deactivated (activation.ts): their organisation turned their Roger account off. */
export class AccountTurnedOff extends Error {}

/** The user this person is, or undefined (a look-up left by an erasure cut short is removed on the way). */
export async function findEntraUser(store: Store, tenantId: string, tid: string, oid: string): Promise<UserDoc | undefined> {
  const accounts = store.container('accounts');
  const { resource: entry } = await accounts.item(entraIdentityId(tid, oid), tenantId).read<EntraIdentityDoc>();
  if (entry?.type !== 'entra-identity') return undefined;
  const user = await readUser(store, tenantId, entry.userId);
  if (user?.entra && user.entra.tid === tid.toLowerCase() && user.entra.oid === oid.toLowerCase()) return user;
  if (!user) await deleteIfUnchanged(store.container('accounts'), entry, tenantId);
  return undefined;
}

/**
 * Finds the person's user, or creates it (policy.jitProvisioning), with the role the token gives;
 * an existing user's role follows the token too, unless the directory owns it (roleOwnedByDirectory).
 * A user the identity provider provisioned over SCIM with the person's object id as `externalId`
 * is linked on their first sign-in, before just-in-time provisioning is considered: so they sign
 * in at once even where it is off (docs/provisioning.md). A deactivated user is refused
 * (AccountTurnedOff). Two first sign-ins of one person at once make one user: the look-up item
 * is claimed first, and the loser reads the winner's. A failure leaves nothing: claims made so
 * far are released, and the user item deleted (a failed roster write must not leave an admin the
 * roster does not know).
 */
export async function signInEntraPerson(
  store: Store,
  tenant: Tenant,
  person: EntraPerson,
  now: Date,
  log: Logger,
): Promise<{ user: UserDoc; created: boolean }> {
  const existing =
    (await findEntraUser(store, tenant.id, person.tid, person.oid)) ?? (await linkProvisionedUser(store, tenant.id, person, log));
  if (existing) return { user: await signedInAs(store, tenant, existing, person.role, log), created: false };
  if (tenant.policy.jitProvisioning === false) throw new NotProvisioned();
  const created = await provision(store, tenant, person, now);
  if (created) return { user: created, created: true };
  // Another sign-in of the same person created them a moment ago.
  const theirs = await findEntraUser(store, tenant.id, person.tid, person.oid);
  if (!theirs) throw new Conflict('this Microsoft account is being set up by another sign-in; try again');
  return { user: await signedInAs(store, tenant, theirs, person.role, log), created: false };
}

/** An existing user signing in: refused while deactivated, else with the role the token gives where Entra owns it. */
async function signedInAs(store: Store, tenant: Tenant, user: UserDoc, role: Role, log: Logger): Promise<UserDoc> {
  if (isDeactivated(user)) throw new AccountTurnedOff();
  return roleOwnedByDirectory(tenant.policy, user) ? user : followRole(store, user, role, log);
}

/**
 * Whether a user may be linked to a Microsoft account by its SCIM `externalId`: only one nobody has
 * used yet and that holds no way in of its own — no Microsoft link, no password, no PIN, no
 * sign-in ever (docs/security.md#scim). A SCIM token may set the externalId of any user of the
 * tenant; without this rule it could hand a person's account, an admin's included, to whichever
 * Microsoft account it names.
 */
const linkable = (user: UserDoc) => !user.entra && !user.passwordHash && !user.pinHash && (user.logins?.length ?? 0) === 0;
/** `linkable`, and no login record names the user either (login-records.ts: sign-ins are items of their own). */
const linkableNow = async (store: Store, user: UserDoc) => linkable(user) && !(await hasSignedIn(store, user));

class LinkRefused extends Error {}

/**
 * The user provisioned over SCIM whose `externalId` is the person's object id, now linked to the
 * person: their `entra:` look-up item is written (once: later sign-ins find it) and `user.entra`
 * set. Undefined when there is none, or when that user is not `linkable` (already another
 * Microsoft account, or used, or holding a credential: nobody's sign-in is moved to someone
 * else); the sign-in then goes on as if no provisioned user matched. A concurrent first sign-in
 * of the same person that linked first is found through its look-up item.
 */
async function linkProvisionedUser(store: Store, tenantId: string, person: EntraPerson, log: Logger): Promise<UserDoc | undefined> {
  const provisioned = await findUserByExternalId(store, tenantId, person.oid);
  if (!provisioned) return undefined;
  if (!(await linkableNow(store, provisioned))) {
    log.warn('entra-link-refused', { tenantId, userId: provisioned.id });
    return undefined;
  }
  const tid = person.tid.toLowerCase();
  const oid = person.oid.toLowerCase();
  const lookUp = store.container('accounts').item(entraIdentityId(tid, oid), tenantId);
  try {
    await store
      .container('accounts')
      .items.create<EntraIdentityDoc>({ id: entraIdentityId(tid, oid), tenantId, type: 'entra-identity', userId: provisioned.id });
  } catch (error) {
    if (isConflict(error)) return findEntraUser(store, tenantId, tid, oid);
    throw error;
  }
  try {
    const linked = await updateUser(store, provisioned, (current) => {
      if (current.entra) throw new Conflict('this account was linked to a Microsoft account meanwhile; try again');
      if (!linkable(current)) throw new LinkRefused();
      return { ...current, entra: { tid, oid } };
    });
    if (!linked) {
      await lookUp.delete().catch(() => undefined); // erased meanwhile: as if there had been nobody
      return undefined;
    }
    log.info('entra-linked-provisioned-user', { tenantId, userId: linked.id });
    return linked;
  } catch (error) {
    await lookUp.delete().catch(() => undefined);
    if (!(error instanceof LinkRefused)) throw error;
    log.warn('entra-link-refused', { tenantId, userId: provisioned.id });
    return undefined;
  }
}

/**
 * The role the token gives, written to the user. The tenant keeps its last admin whatever Entra
 * says (admin-roster.ts): that demotion is left undone, and logged, until another admin exists.
 */
export async function followRole(store: Store, user: UserDoc, role: Role, log: Logger): Promise<UserDoc> {
  if (user.role === role) return user;
  try {
    return await changeUser(store, user, { role });
  } catch (error) {
    if (!(error instanceof Conflict) || role !== 'user') throw error;
    log.warn('entra-role-demotion-refused', { tenantId: user.tenantId, userId: user.id, reason: 'last-admin' });
    return user;
  }
}

const USERNAME_ATTEMPTS = 20;

/** undefined when the look-up item was claimed by a concurrent sign-in of the same person. */
async function provision(store: Store, tenant: Tenant, person: EntraPerson, now: Date): Promise<UserDoc | undefined> {
  const accounts = store.container('accounts');
  const userId = newId();
  const tid = person.tid.toLowerCase();
  const oid = person.oid.toLowerCase();
  const email = emailOf(person);
  const release: Array<() => Promise<unknown>> = [];
  try {
    try {
      await accounts.items.create<EntraIdentityDoc>({ id: entraIdentityId(tid, oid), tenantId: tenant.id, type: 'entra-identity', userId });
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
    release.push(() => accounts.item(entraIdentityId(tid, oid), tenant.id).delete());
    const local = person.preferredUsername?.split('@')[0] || email.split('@')[0] || '';
    const username = await claimUsername(store, tenant.id, usernameBase(local, `user-${person.oid.slice(0, 8)}`), userId);
    release.push(() => releaseLoginName(store, tenant.id, username));
    try {
      await claimLoginName(store, tenant.id, email, userId);
    } catch (error) {
      if (isConflict(error)) throw new EmailTaken();
      throw error;
    }
    release.push(() => releaseLoginName(store, tenant.id, email));
    const user: UserDoc = {
      id: userId,
      tenantId: tenant.id,
      type: 'user',
      email,
      username,
      fullName: (person.name ?? '').trim().slice(0, 200) || username,
      role: person.role,
      lockout: { failures: 0, locks: 0 },
      refreshFamilies: [],
      entra: { tid, oid },
      createdAt: now.toISOString(),
    };
    // Undone first if anything after it fails (the roster write): no user is left without the rest.
    release.push(() => accounts.item(userId, tenant.id).delete());
    const { resource } = await accounts.items.create(user);
    // After the user holds the role, never before (admin-roster.ts).
    if (user.role === 'admin') await putOnRoster(store, tenant.id, user.id);
    return resource ?? user;
  } catch (error) {
    for (const undo of release.reverse()) await undo().catch(() => undefined);
    throw error;
  }
}

/** The token's email, else its preferred_username when that is an address; Entra guarantees neither. */
function emailOf(person: EntraPerson): string {
  for (const candidate of [person.email, person.preferredUsername]) {
    const value = candidate?.trim();
    if (value && value.length <= 254 && /^[^\s@/\\?#]+@[^\s@/\\?#]+\.[^\s@/\\?#]+$/.test(value)) return value;
  }
  // No address in the token: a name no person can claim by email (the `.invalid` TLD, RFC 2606).
  return `${person.oid.toLowerCase()}@entra.invalid`;
}

/**
 * An address's local part in the username alphabet, 2–55 characters (room for a suffix), else
 * `fallback`. Also the username of a user provisioned over SCIM (shared/scim/users.ts).
 */
export function usernameBase(localPart: string, fallback: string): string {
  const cleaned = localPart
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]/g, '')
    .replace(/^[._-]+/, '')
    .slice(0, 55);
  return cleaned.length >= 2 ? cleaned : fallback;
}

/** `megan`, else `megan-2`, `megan-3`… and finally a random suffix: a username taken by someone else is never reused. */
export async function claimUsername(store: Store, tenantId: string, base: string, userId: string): Promise<string> {
  for (let attempt = 1; attempt <= USERNAME_ATTEMPTS; attempt++) {
    const candidate =
      attempt === 1 ? base : attempt < USERNAME_ATTEMPTS ? `${base}-${attempt}` : `${base}-${newId().slice(0, 8).toLowerCase()}`;
    try {
      await claimLoginName(store, tenantId, candidate, userId);
      return candidate;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  throw new Conflict('no free username could be found for this person; ask your administrator');
}

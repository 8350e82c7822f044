import { Type, type Static } from '@sinclair/typebox';
import type { Services } from '../services.js';
import { putOnRoster } from './admin-roster.js';
import { isConflict, isNotFound } from '../store/cosmos-errors.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import type { Store } from '../store/store.js';
import type { RefreshFamily } from '../oauth/refresh-families.js';
import { hashCredential } from '../tokens/credential-hash.js';
import { hashSecret, newId } from '../tokens/secrets.js';
import { readSignInDecoy } from './sign-in-decoy.js';
import type { TenantPolicy } from '../tenants/policy.js';

export const UsernameSchema = Type.String({
  pattern: '^[A-Za-z0-9._-]{2,64}$',
  description: 'Letters, digits, dot, dash, underscore; 2–64 characters; no "@" (that makes it an email).',
});
/** RFC 5322 allows `/`, `?` and `#` in the local part; Cosmos item ids (the login-name look-ups) do not. */
export const EmailSchema = Type.String({ format: 'email', maxLength: 254, pattern: '^[^/\\\\?#]+$' });
export const RoleSchema = Type.Union([Type.Literal('user'), Type.Literal('admin')]);
export type Role = Static<typeof RoleSchema>;
/** Length rules come from the tenant policy and are checked in code; the schema caps abuse. */
export const PinSchema = Type.String({ pattern: '^[0-9]{4,12}$', description: 'Digits only; length per tenant policy.' });
export const PasswordSchema = Type.String({ minLength: 8, maxLength: 128 });

export interface LoginRecord {
  readonly at: string;
  readonly clientId: string;
  readonly success: boolean;
  readonly method: 'pin' | 'password' | 'microsoft' | 'badge';
  readonly ip?: string;
}

export interface Lockout {
  /** Consecutive failures since the last success or lock. */
  readonly failures: number;
  readonly lockedUntil?: string;
  /** Locks in a row; each one doubles the next lock's length. */
  readonly locks: number;
}

/**
 * A user and their sign-in state (lockout, refresh families): one item, read by every sign-in and
 * written only when that state changes. Each attempt is a login record of its own (login-records.ts).
 */
export interface UserDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'user';
  readonly email: string;
  readonly username: string;
  readonly fullName: string;
  readonly role: Role;
  readonly pinHash?: string;
  /** The PIN index entry of the PIN `pinHash` holds, when Roger drew it (users/pin-index.ts). */
  readonly pinIndexId?: string;
  readonly passwordHash?: string;
  readonly lockout: Lockout;
  /**
   * Sign-ins of a user stored before login records (login-records.ts), newest last: read until
   * they age out of the tenant's login history, never added to (docs/data.md#login-records).
   */
  readonly logins?: readonly LoginRecord[];
  readonly refreshFamilies: readonly RefreshFamily[];
  /**
   * The Microsoft Entra ID person this user is (docs/flows.md, Sign in with Microsoft): their
   * tenant id and object id, never their email. Also a look-up item `entra:<tid>:<oid>` (entra-identity.ts).
   */
  readonly entra?: { readonly tid: string; readonly oid: string };
  /**
   * Set while the user is deactivated (SCIM `active: false`, docs/provisioning.md): no sign-in of
   * any kind, no refresh, no use of a token still held, no job released. activation.ts.
   */
  readonly deactivatedAt?: string;
  /** Present when an identity provider provisions this user over SCIM (shared/scim/): what it owns. */
  readonly scim?: ScimProfile;
  readonly createdAt: string;
  readonly _etag?: string;
}

/**
 * The attributes a SCIM client (the customer's identity provider) owns for a user it provisions.
 * The user's `email` and `fullName` follow them too; none of it can be changed through the
 * admin API while the directory manages the user.
 */
export interface ScimProfile {
  /** As the identity provider sent it (Entra: the user principal name); also a login name of the user. */
  readonly userName: string;
  /** Entra: the object id (`oid`) when the mapping says so; links the user to Sign in with Microsoft (external-id.ts). */
  readonly externalId?: string;
  readonly name?: { readonly givenName?: string; readonly familyName?: string; readonly formatted?: string };
  readonly displayName?: string;
  /** The enterprise user extension's attributes kept (RFC 7643 §4.3). */
  readonly enterprise?: { readonly employeeNumber?: string; readonly department?: string; readonly costCenter?: string };
  /** The SCIM token that created the user (its id). */
  readonly createdBy: string;
  readonly updatedAt: string;
}

/** username and email share one namespace (usernames cannot contain "@"); each maps to a user id. */
interface LoginNameDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'login-name';
  readonly userId: string;
}

export const normalizeLoginName = (name: string) => name.normalize('NFKC').trim().toLowerCase();
/** The look-up item of a username or email (SCIM filters read it: shared/scim/users.ts). */
export const loginNameId = (name: string) => `login:${normalizeLoginName(name)}`;

/** What the API shows of a user: never hashes, lockout internals, tokens or history. */
export function publicUser(user: UserDoc) {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    fullName: user.fullName,
    role: user.role,
    hasPin: Boolean(user.pinHash),
    hasPassword: Boolean(user.passwordHash),
    active: user.deactivatedAt === undefined,
    provisioned: user.scim !== undefined,
    createdAt: user.createdAt,
  };
}
export const PublicUserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  username: Type.String(),
  fullName: Type.String(),
  role: RoleSchema,
  hasPin: Type.Boolean(),
  hasPassword: Type.Boolean(),
  active: Type.Boolean({ description: 'False while the identity provider has turned the account off (SCIM `active: false`): no sign-in.' }),
  provisioned: Type.Boolean({
    description: 'Provisioned over SCIM: email, username and full name (and the role, where the admin group decides it) change only there.',
  }),
  createdAt: Type.String({ format: 'date-time' }),
});

export class CredentialRejected extends Error {}
export class LoginNameTaken extends Error {
  constructor(readonly field: 'username' | 'email') {
    super(`${field} is taken`);
  }
}

/** Checks a PIN / password against the tenant policy; throws CredentialRejected with the reason. */
export function checkCredentialPolicy(policy: TenantPolicy, credentials: { pin?: string; password?: string }) {
  // Under PIN-only sign-in a PIN names its holder: only Roger draws them, so that none is guessable
  // and nobody is ever told one is taken (docs/security.md#pin-only-sign-in).
  if (credentials.pin !== undefined && policy.pinOnly) {
    throw new CredentialRejected('this organization signs in with a PIN alone, so PINs are drawn by Roger, not chosen: ask for a new PIN');
  }
  if (credentials.pin !== undefined && credentials.pin.length < policy.pinMinLength) {
    throw new CredentialRejected(`the PIN must have at least ${policy.pinMinLength} digits`);
  }
  if (credentials.password !== undefined && credentials.password.length < policy.passwordMinLength) {
    throw new CredentialRejected(`the password must have at least ${policy.passwordMinLength} characters`);
  }
  if (
    credentials.password !== undefined &&
    policy.passwordNeedsLetterAndDigit &&
    !(/\p{L}/u.test(credentials.password) && /\p{Nd}/u.test(credentials.password))
  ) {
    throw new CredentialRejected('the password must hold at least one letter and one digit');
  }
}

export async function hashCredentials(credentials: { pin?: string; password?: string }) {
  const [pinHash, passwordHash] = await Promise.all([
    credentials.pin === undefined ? undefined : hashCredential(credentials.pin),
    credentials.password === undefined ? undefined : hashCredential(credentials.password),
  ]);
  return { ...(pinHash ? { pinHash } : {}), ...(passwordHash ? { passwordHash } : {}) };
}

export interface NewUser {
  readonly email: string;
  readonly username: string;
  readonly fullName: string;
  readonly role: Role;
  readonly pin?: string;
  readonly password?: string;
}

/**
 * Claims the username and email in the tenant (point-readable look-up items, 409 when taken),
 * then writes the user. On any failure the claims made so far are released.
 */
export async function createUser(
  { store, now }: Pick<Services, 'store' | 'now'>,
  tenantId: string,
  policy: TenantPolicy,
  input: NewUser,
): Promise<UserDoc> {
  checkCredentialPolicy(policy, input);
  const accounts = store.container('accounts');
  const user: UserDoc = {
    id: newId(),
    tenantId,
    type: 'user',
    email: input.email.trim(),
    username: input.username.trim(),
    fullName: input.fullName.trim(),
    role: input.role,
    ...(await hashCredentials(input)),
    lockout: { failures: 0, locks: 0 },
    refreshFamilies: [],
    createdAt: now().toISOString(),
  };
  const claimed: string[] = [];
  try {
    for (const [field, name] of [
      ['username', user.username],
      ['email', user.email],
    ] as const) {
      try {
        claimed.push(await claimLoginName(store, tenantId, name, user.id));
      } catch (error) {
        if (isConflict(error)) throw new LoginNameTaken(field);
        throw error;
      }
    }
    await accounts.items.create(user);
  } catch (error) {
    await Promise.all(
      claimed.map((id) =>
        accounts
          .item(id, tenantId)
          .delete()
          .catch(() => undefined),
      ),
    );
    throw error;
  }
  // After the user holds the role, never before (admin-roster.ts).
  if (user.role === 'admin') await putOnRoster(store, tenantId, user.id);
  return user;
}

/** Claims a username or email for a user (a point-readable look-up item); Cosmos 409 when taken. Returns the item id. */
export async function claimLoginName(store: Store, tenantId: string, name: string, userId: string): Promise<string> {
  const id = loginNameId(name);
  await store.container('accounts').items.create<LoginNameDoc>({ id, tenantId, type: 'login-name', userId });
  return id;
}

/** Frees a username or email (idempotent). */
export async function releaseLoginName(store: Store, tenantId: string, name: string): Promise<void> {
  await store
    .container('accounts')
    .item(loginNameId(name), tenantId)
    .delete()
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
}

/** Point read in the caller's tenant partition: a user of another tenant is simply not found. */
export async function readUser(store: Store, tenantId: string, userId: string): Promise<UserDoc | undefined> {
  const { resource } = await store.container('accounts').item(userId, tenantId).read<UserDoc>();
  return resource?.type === 'user' ? resource : undefined;
}

/**
 * Login name → user id, remembered per instance so a repeat sign-in skips the look-up read. A
 * hint, never trusted: every hit is checked against the user it names (a rename, an erasure or
 * a reused name makes it a miss and the look-up item decides). Keyed by a hash of tenant and
 * name, so no email or username sits in memory; bounded, oldest entries go first.
 *
 * A name that is nobody's is remembered as well (NOBODY), in the same map under the same
 * bound, so that it costs what a user's name costs, cold and warm (docs/security.md#lockout: neither the answer
 * nor its timing may say whether a user exists). Not trusted either: its one read is the
 * look-up item again, since the name may have been claimed since.
 */
const userIdHints = new Map<string, string>();
const USER_ID_HINTS_KEPT = 10_000;
const NOBODY = '';

/**
 * Whether the user holds this login name (normalised) now: their username, their email, or the
 * SCIM userName their identity provider gave them (docs/provisioning.md: a sign-in name too).
 */
const answersTo = (user: UserDoc, normalized: string) =>
  normalizeLoginName(user.username) === normalized ||
  normalizeLoginName(user.email) === normalized ||
  (user.scim !== undefined && normalizeLoginName(user.scim.userName) === normalized);

/** Whether the user holds `name` (any form) as a login name now; a look-up item naming them for it is otherwise stale. */
export const answersToLoginName = (user: UserDoc, name: string) => answersTo(user, normalizeLoginName(name));

function rememberHint(hintKey: string, userId: string) {
  if (!userIdHints.has(hintKey) && userIdHints.size >= USER_ID_HINTS_KEPT) userIdHints.delete(userIdHints.keys().next().value!);
  userIdHints.set(hintKey, userId);
}

/**
 * Username or email → user: one point read when this instance has seen the name, else two
 * (look-up item, then the user). A name nobody has makes the same number of point reads — the
 * sign-in decoy stands in for the user — and the caller then writes the decoy in place of the
 * user (sign-in.ts).
 */
export async function findUserByLoginName(store: Store, tenantId: string, name: string): Promise<UserDoc | undefined> {
  const normalized = normalizeLoginName(name);
  // No username or email may hold these (schemas), and Cosmos ids cannot: such a name is nobody's.
  if (/[/\\?#]/.test(normalized)) return undefined;
  const hintKey = hashSecret(`${tenantId}|${normalized}`);
  const hinted = userIdHints.get(hintKey);
  if (hinted) {
    const user = await readUser(store, tenantId, hinted);
    if (user && answersTo(user, normalized)) return user;
    userIdHints.delete(hintKey);
  }
  const { resource: entry } = await store.container('accounts').item(loginNameId(name), tenantId).read<LoginNameDoc>();
  if (!entry || entry.type !== 'login-name') {
    // Warm, the look-up read just made was this name's one read; cold, the decoy is its second.
    if (hinted !== NOBODY) await readSignInDecoy(store, tenantId);
    rememberHint(hintKey, NOBODY);
    return undefined;
  }
  const user = await readUser(store, tenantId, entry.userId);
  // A look-up item can outlive the name it was for (two admins renaming one user at once, an
  // erasure cut short): the user must still answer to the name.
  if (!user || !answersTo(user, normalized)) return undefined;
  rememberHint(hintKey, user.id);
  return user;
}

/** Replaces the user only if nobody changed it since it was read (ETag); throws 412 otherwise. */
export async function replaceUser(store: Store, user: UserDoc): Promise<UserDoc> {
  return replaceIfUnchanged(store.container('accounts'), user, user.tenantId);
}

/**
 * Every request that signs the user in, refreshes one of their sessions or changes them writes
 * this one item. Each 412 means one of those writes won; n writers racing need at most n tries.
 */
export const USER_WRITE_ATTEMPTS = 20;

/**
 * Applies `change` to the user as stored when it is written: when another write to the item
 * came first (412), the user is read again and `change` applied on top, so neither write undoes
 * the other and neither fails. Undefined when the user is gone. `change` may run several times:
 * keep slow work (argon2) out of it and do it before the read.
 */
export function updateUser(store: Store, user: UserDoc, change: (current: UserDoc) => UserDoc): Promise<UserDoc | undefined> {
  const reread = (current: UserDoc) => readUser(store, current.tenantId, current.id);
  return writeOnLatest(user, (current) => replaceUser(store, change(current)), reread, USER_WRITE_ATTEMPTS);
}

import { Unauthorized } from '../errors.js';
import type { UserDoc } from './users.js';

/**
 * Deactivation (docs/provisioning.md#deactivation): the directory says the person may no longer
 * use Roger (SCIM `active: false`). The user stays, with their data, until it says otherwise or
 * deletes them; meanwhile every door refuses them: each sign-in (Microsoft, password, PIN at the
 * printer), each refresh, each request with an access token still held, and each job release.
 * These are pure changes of the user item: the caller writes them with updateUser, in the same
 * write as whatever else changes.
 */
export const isDeactivated = (user: Pick<UserDoc, 'deactivatedAt'>): boolean => user.deactivatedAt !== undefined;

/**
 * The user a verified token names, refused while deactivated: the token still verifies until it
 * expires, but whatever reads its user answers 401 like for an erased account (http-handler.ts,
 * currentUser). Sign-ins refuse differently: like a wrong password (sign-in.ts).
 */
export function requireActive<User extends Pick<UserDoc, 'deactivatedAt'>>(user: User): User {
  if (isDeactivated(user)) throw new Unauthorized('the account this token was issued to is turned off');
  return user;
}

/**
 * The user, deactivated: every refresh family is dropped in the same write, so no refresh token
 * of theirs works again even after reactivation. Deactivating twice keeps the first time.
 */
export function deactivated(user: UserDoc, now: Date): UserDoc {
  return { ...user, deactivatedAt: user.deactivatedAt ?? now.toISOString(), refreshFamilies: [] };
}

/** The user, active again: they sign in afresh (their old sessions stay ended). */
export function reactivated(user: UserDoc): UserDoc {
  if (user.deactivatedAt === undefined) return user;
  const { deactivatedAt: _dropped, ...rest } = user;
  return rest;
}

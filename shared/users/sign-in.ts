import type { Services } from '../services.js';
import { writeOnLatest } from '../store/conditional-replace.js';
import { lockDurationSeconds, type TenantPolicy } from '../tenants/policy.js';
import type { Tenant } from '../tenants/tenants.js';
import { spendVerifyTime, verifyCredential } from '../tokens/credential-hash.js';
import { isDeactivated } from './activation.js';
import { replaceUserWithLoginRecord, writeLoginRecord } from './login-records.js';
import { findUserByLoginName, readUser, type Lockout, type LoginRecord, type UserDoc } from './users.js';
import { writeSignInDecoy } from './sign-in-decoy.js';

export interface SignInAttempt {
  readonly loginName: string;
  readonly secret: string;
  readonly method: 'pin' | 'password';
  readonly clientId: string;
  /** Recorded only when the tenant policy keeps IP addresses. */
  readonly ip?: string;
}

/**
 * What an attempt proves beside who it names: a PIN or password, checked with argon2id against
 * the user's hash, or nothing more (`none`: a badge alone, where holding the card is the proof;
 * docs/security.md#badge-sign-in).
 */
export type SignInProof = { readonly kind: 'pin' | 'password'; readonly secret: string } | { readonly kind: 'none' };

/** An attempt whose user was found by other means than a login name (a badge): signInUser. */
export interface IdentifiedSignIn {
  /** As recorded and counted (login record, `roger.sign_ins`). */
  readonly method: 'pin' | 'password' | 'badge';
  readonly proof: SignInProof;
  readonly clientId: string;
  /** Recorded only when the tenant policy keeps IP addresses. */
  readonly ip?: string;
}

/**
 * The account after one attempt, and the record of it (docs/security.md#lockout). Pure, so the
 * rules are tested without a store.
 *  - a success clears the failures and the lock streak;
 *  - the threshold-th failure in a row locks the account for a period that doubles per lock;
 *  - an attempt while locked fails whatever the secret, and does not extend the lock;
 *  - an attempt while deactivated (activation.ts) fails whatever the secret, and counts nothing:
 *    the directory, not a guesser, decides when the account comes back, and it comes back unlocked.
 * `user` is the very object passed in when its lockout did not change (a success on a clean
 * account, an attempt while locked or deactivated): the caller then need not write it
 * (docs/data.md#login-records). The record is written as an item of its own (login-records.ts).
 */
export function applySignInAttempt(
  user: UserDoc,
  policy: TenantPolicy,
  attempt: Pick<IdentifiedSignIn, 'method' | 'clientId' | 'ip'>,
  credentialOk: boolean,
  now: Date,
): { user: UserDoc; record: LoginRecord; success: boolean; locked: boolean; lockedNow: boolean } {
  const locked = user.lockout.lockedUntil !== undefined && Date.parse(user.lockout.lockedUntil) > now.getTime();
  const deactivated = isDeactivated(user);
  const success = credentialOk && !locked && !deactivated;
  let lockout: Lockout = user.lockout;
  let lockedNow = false;
  if (success) {
    lockout = { failures: 0, locks: 0 };
  } else if (!locked && !deactivated) {
    const failures = lockout.failures + 1;
    lockedNow = failures >= policy.lockoutThreshold;
    lockout =
      failures >= policy.lockoutThreshold
        ? {
            failures: 0,
            locks: lockout.locks + 1,
            lockedUntil: new Date(now.getTime() + lockDurationSeconds(policy, lockout.locks) * 1000).toISOString(),
          }
        : { failures, locks: lockout.locks };
  }
  const record: LoginRecord = {
    at: now.toISOString(),
    clientId: attempt.clientId,
    success,
    method: attempt.method,
    ...(policy.loginHistoryKeepsIp && attempt.ip ? { ip: attempt.ip } : {}),
  };
  const unchanged = sameLockout(lockout, user.lockout);
  return { user: unchanged ? user : { ...user, lockout }, record, success, locked, lockedNow };
}

const sameLockout = (a: Lockout, b: Lockout) => a.failures === b.failures && a.locks === b.locks && a.lockedUntil === b.lockedUntil;

/**
 * A user stored before login records (login-records.ts) carries its sign-ins in an array: when
 * the item is written anyway, the ones the tenant no longer keeps are dropped, and the array
 * with them once empty. Nothing is added to it.
 */
function withoutAgedLogins(user: UserDoc, policy: TenantPolicy, now: Date): UserDoc {
  if (user.logins === undefined) return user;
  const since = now.getTime() - policy.loginHistoryDays * 86_400_000;
  const kept = user.logins.filter((login) => Date.parse(login.at) >= since);
  if (kept.length === user.logins.length) return user;
  const { logins: _dropped, ...rest } = user;
  return kept.length > 0 ? { ...rest, logins: kept } : rest;
}

/** As a lost conditional write (412): the user changed since the attempt was weighed against it. */
class ChangedSinceRead extends Error {
  readonly code = 412;
  constructor() {
    super('the user changed since it was read');
  }
}

/**
 * Each 412 means another attempt at the same account was recorded first, so n attempts racing
 * need at most n writes. Sized for bursts: a dozen wrong PINs at once must all be answered and
 * recorded (tests/races), not fail with a 500. A retry costs a point read and a write, never
 * argon2 work again.
 */
const MAX_WRITE_ATTEMPTS = 20;

/**
 * Checks a PIN or password and records the attempt. Returns the user on success, undefined
 * otherwise — unknown user, wrong secret, locked and deactivated account look the same to the caller, and
 * cost the same: exactly one argon2 verify each, and the same store requests (an unknown name
 * reads and writes the sign-in decoy where a user's item would be). Requests: look-up, user,
 * one write (a clean success: the user read again, then the write); no look-up when this instance has seen the name before; more only when another
 * sign-in of the same user races this one.
 *
 * The one write (docs/data.md#login-records) is the attempt's login record alone when the
 * user item does not change (a success on a clean account: the common case), else the user
 * (conditional on its ETag) and the record together in one transactional batch. A success that
 * writes the record alone first reads the user once more (see below): one request more than a
 * failure, which is no secret (the answer says it).
 *
 * `onSuccess` may change the user in the same write (e.g. add a refresh-token family); it
 * returns the user it was given when it changes nothing.
 */
export async function signIn(
  services: Pick<Services, 'store' | 'now' | 'telemetry'>,
  tenant: Tenant,
  attempt: SignInAttempt,
  onSuccess: (user: UserDoc) => UserDoc = (user) => user,
): Promise<UserDoc | undefined> {
  const user = await findUserByLoginName(services.store, tenant.id, attempt.loginName);
  const { method, secret, clientId, ip } = attempt;
  return signInUser(services, tenant, user, { method, proof: { kind: method, secret }, clientId, ip }, onSuccess);
}

/**
 * signIn for a user the caller has already looked up (a badge's owner, grants/badge.ts), with
 * the same rules, records, lockout and costs; `user` undefined is a miss, answered after the same
 * argon2 work (when the proof is a secret) and with the decoy written in place of the user. The
 * caller's look-up must itself cost the same for a miss (readSignInDecoy in place of the user's
 * read).
 */
export async function signInUser(
  services: Pick<Services, 'store' | 'now' | 'telemetry'>,
  tenant: Tenant,
  user: UserDoc | undefined,
  attempt: IdentifiedSignIn,
  onSuccess: (user: UserDoc) => UserDoc = (user) => user,
): Promise<UserDoc | undefined> {
  const { store, telemetry } = services;
  const { proof } = attempt;
  const hashOf = (someone: UserDoc | undefined) =>
    proof.kind === 'pin' ? someone?.pinHash : proof.kind === 'password' ? someone?.passwordHash : undefined;
  const hash = hashOf(user);
  let credentialOk = false;
  if (proof.kind === 'none') credentialOk = true;
  else if (hash) credentialOk = await verifyCredential(hash, proof.secret);
  else await spendVerifyTime(proof.secret);
  if (!user) {
    await writeSignInDecoy(store, tenant.id); // in place of recording the attempt on a user
    telemetry.signIn(attempt.method, 'failure');
    return undefined;
  }

  // Another attempt may change the account first (412): this one is then applied on top of its
  // result, so concurrent wrong PINs all count towards the lock. If that write was a reset, the
  // secret was checked against a credential that is gone: it is wrong now (a reset racing the
  // thief's sign-in must still lock the thief out).
  const written: { outcome?: ReturnType<typeof applySignInAttempt> } = {};
  /** The user as a confirming read found it changed: the next try starts from it, without reading it again. */
  let changed: UserDoc | undefined;
  const signedIn = await writeOnLatest(
    user,
    async (current) => {
      const checkedAgainstCurrent = hashOf(current) === hash;
      const time = services.now();
      const outcome = applySignInAttempt(current, tenant.policy, attempt, credentialOk && checkedAgainstCurrent, time);
      const next = outcome.success ? onSuccess(outcome.user) : outcome.user;
      let saved: UserDoc;
      if (next !== current) {
        saved = await replaceUserWithLoginRecord(store, withoutAgedLogins(next, tenant.policy, time), outcome.record, tenant.policy);
      } else {
        // A success that writes no user has no ETag to lose: without this, failures racing it
        // could lock the account between its read and its answer and it would still sign in
        // (a burst of guesses would then outrun the lockout). One point read of the user stands
        // in for the conditional write: unchanged, the success stands; changed, it is applied
        // again on what is there now (docs/data.md#login-records).
        if (outcome.success) {
          const latest = await readUser(store, tenant.id, current.id);
          if (!latest) return undefined;
          if (latest._etag !== current._etag) {
            changed = latest;
            throw new ChangedSinceRead();
          }
        }
        await writeLoginRecord(store, current, outcome.record, tenant.policy);
        saved = current;
      }
      written.outcome = outcome;
      return outcome.success ? saved : undefined;
    },
    async (current) => {
      const latest = changed ?? (await readUser(store, tenant.id, current.id));
      changed = undefined;
      return latest;
    },
    MAX_WRITE_ATTEMPTS,
  );
  // Counted as written (the last try), after the write: a caller sees the same answer either way.
  const { outcome } = written;
  if (outcome) {
    telemetry.signIn(attempt.method, outcome.success ? 'success' : outcome.locked ? 'locked' : 'failure');
    if (outcome.lockedNow) telemetry.lockout('user');
  }
  return signedIn;
}

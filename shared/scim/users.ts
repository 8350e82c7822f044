import { audit, scimActorId, type AuditAction } from '../audit/audit.js';
import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { isConflict, isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { newId } from '../tokens/secrets.js';
import { deactivated, isDeactivated, reactivated } from '../users/activation.js';
import { countUsers, eraseAccountAs } from '../users/admin.js';
import { claimUsername, usernameBase } from '../users/entra-identity.js';
import { claimExternalId, externalIdItemId, findUserByExternalId, releaseExternalId, sameExternalId } from '../users/external-id.js';
import {
  answersToLoginName,
  claimLoginName,
  loginNameId,
  normalizeLoginName,
  readUser,
  releaseLoginName,
  updateUser,
  type ScimProfile,
  type UserDoc,
} from '../users/users.js';
import { invalidValue, notFound, ScimError, uniqueness } from './errors.js';
import { userFilter } from './filter.js';
import { applyPatch, patchOperations } from './patch.js';
import {
  attribute,
  ENTERPRISE_USER_SCHEMA,
  isOurId,
  isPlainObject,
  listOf,
  paging,
  readBoolean,
  readString,
  resourceBody,
  USER_SCHEMA,
  version,
  type ListQuery,
  type ScimCaller,
  type ScimList,
  type ScimResource,
} from './resources.js';

/**
 * SCIM Users (RFC 7643 §4.1, RFC 7644 §3; docs/provisioning.md): the tenant's users as its
 * identity provider sees and manages them. Every user of the tenant is visible to the tenant's
 * token, so a directory's "find, else create" meets people who already exist (a Microsoft sign-in
 * created them, an admin added them) and manages them from then on.
 *
 * A user answers to three names in the tenant's one namespace of login names (users.ts): its
 * username (our handle, made from the userName's local part), its email, and the SCIM userName
 * when that is neither. Each is a look-up item, claimed before the user is written and released
 * after (nothing half-written on a failure, and a filter on any of them is point reads).
 */

type Deps = Pick<Services, 'store' | 'now'>;

/** What we keep of a SCIM user resource (data minimisation: everything else sent is dropped). */
interface ScimUserInput {
  readonly userName: string;
  readonly externalId?: string;
  readonly name?: ScimProfile['name'];
  readonly displayName?: string;
  /** The address chosen from `emails`, else the userName when it is one; undefined: neither. */
  readonly email?: string;
  readonly active?: boolean;
  readonly enterprise?: ScimProfile['enterprise'];
}

const MAX_NAME = 254;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Cosmos item ids (the look-ups) take none of these; RFC 5322 allows some in a local part. */
const NOT_IN_NAMES = /[/\\?#]/;
/** The `.invalid` TLD (RFC 2606): an address nobody can hold; not shown as an email. */
const placeholderEmail = (userId: string) => `${userId}@scim.invalid`;
const isPlaceholder = (email: string) => /\.invalid$/i.test(email);

/** Tested after NFKC (normalizeLoginName), as the look-up id is built: a fullwidth `／` is a `/` there. */
const unfitForLookUp = (name: string) => NOT_IN_NAMES.test(normalizeLoginName(name));

function readLoginName(value: unknown, name: string): string | undefined {
  const read = readString(value, name, MAX_NAME);
  if (read !== undefined && unfitForLookUp(read)) throw invalidValue(`${name} must not contain / \\ ? or #`);
  return read;
}

function readObject(value: unknown, name: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw invalidValue(`${name} must be an object`);
  return value;
}

const compact = <T extends Record<string, string | undefined>>(object: T): Partial<T> | undefined => {
  const kept = Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
  return Object.keys(kept).length > 0 ? kept : undefined;
};

/** The work email (RFC 7643 §2.4, §4.1.2): the primary work one, else a work one, else the primary one, else the first. */
function chooseEmail(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidValue('emails must be an array');
  const entries = value.map((entry, i) => {
    if (!isPlainObject(entry)) throw invalidValue(`emails[${i}] must be an object`);
    return {
      value: readLoginName(attribute(entry, 'value'), 'emails.value'),
      type: readString(attribute(entry, 'type'), 'emails.type')?.toLowerCase(),
      primary: readBoolean(attribute(entry, 'primary'), 'emails.primary') ?? false,
    };
  });
  const withValue = entries.filter((entry) => entry.value !== undefined);
  // Of two primary ones (a PATCH add appends a new primary address beside the one shown), the later: RFC 7643 §2.4 lets one be primary.
  const chosen =
    withValue.findLast((e) => e.type === 'work' && e.primary) ??
    withValue.find((e) => e.type === 'work') ??
    withValue.findLast((e) => e.primary) ??
    withValue[0];
  if (chosen && !EMAIL.test(chosen.value!)) throw invalidValue('emails.value must be an email address');
  return chosen?.value;
}

/** A user resource (a POST or PUT body, or a PATCH's result) in our terms. */
function readUserResource(resource: Record<string, unknown>): ScimUserInput {
  const userName = readLoginName(attribute(resource, 'userName'), 'userName');
  if (!userName) throw invalidValue('userName is required');
  const name = readObject(attribute(resource, 'name'), 'name');
  const enterprise = readObject(attribute(resource, ENTERPRISE_USER_SCHEMA), 'the enterprise extension');
  const email = chooseEmail(attribute(resource, 'emails')) ?? (EMAIL.test(userName) ? userName : undefined);
  const externalId = readString(attribute(resource, 'externalId'), 'externalId');
  const displayName = readString(attribute(resource, 'displayName'), 'displayName');
  const active = readBoolean(attribute(resource, 'active'), 'active');
  const keptName =
    name &&
    compact({
      givenName: readString(attribute(name, 'givenName'), 'name.givenName'),
      familyName: readString(attribute(name, 'familyName'), 'name.familyName'),
      formatted: readString(attribute(name, 'formatted'), 'name.formatted'),
    });
  const keptEnterprise =
    enterprise &&
    compact({
      employeeNumber: readString(attribute(enterprise, 'employeeNumber'), 'employeeNumber'),
      department: readString(attribute(enterprise, 'department'), 'department'),
      costCenter: readString(attribute(enterprise, 'costCenter'), 'costCenter'),
    });
  return {
    userName,
    ...(externalId !== undefined ? { externalId } : {}),
    ...(keptName ? { name: keptName } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    ...(email !== undefined ? { email } : {}),
    ...(active !== undefined ? { active } : {}),
    ...(keptEnterprise ? { enterprise: keptEnterprise } : {}),
  };
}

/** displayName, else name.formatted, else given and family name, else the userName. */
function fullNameOf(input: ScimUserInput): string {
  const given = [input.name?.givenName, input.name?.familyName].filter(Boolean).join(' ');
  return input.displayName ?? input.name?.formatted ?? (given || input.userName);
}

/** What the SCIM view of a user reads (a listing fetches these fields only). */
type ListedUser = Pick<UserDoc, 'id' | 'email' | 'fullName' | 'deactivatedAt' | 'scim' | 'createdAt' | '_etag'>;
const LISTED_FIELDS = [
  'id',
  'email',
  'fullName',
  'deactivatedAt',
  'scim',
  'createdAt',
  '_etag',
] as const satisfies readonly (keyof ListedUser)[];

/** The user as the identity provider sees it: never hashes, PINs, sign-ins or role. */
export function scimUser(user: ListedUser): ScimResource {
  const scim = user.scim;
  return {
    schemas: scim?.enterprise ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id: user.id,
    ...(scim?.externalId !== undefined ? { externalId: scim.externalId } : {}),
    userName: scim?.userName ?? user.email,
    ...(scim?.name ? { name: { ...scim.name } } : {}),
    displayName: scim?.displayName ?? user.fullName,
    ...(isPlaceholder(user.email) ? {} : { emails: [{ value: user.email, type: 'work', primary: true }] }),
    active: !isDeactivated(user),
    ...(scim?.enterprise ? { [ENTERPRISE_USER_SCHEMA]: { ...scim.enterprise } } : {}),
    meta: { resourceType: 'User', created: user.createdAt, lastModified: scim?.updatedAt ?? user.createdAt, ...version(user._etag) },
  };
}

/** The login names a user answers to besides its username: its email, and a SCIM userName that is neither. */
function namesHeld(user: Pick<UserDoc, 'email' | 'username'>, userName: string | undefined): string[] {
  const names = [user.email];
  if (userName !== undefined && ![user.email, user.username].some((n) => normalizeLoginName(n) === normalizeLoginName(userName))) {
    names.push(userName);
  }
  return names;
}

const sameNames = (a: string, b: string) => normalizeLoginName(a) === normalizeLoginName(b);
/** Which attribute a taken name came from, as the 409 says it. */
const labelOf = (name: string, userName: string) => (sameNames(name, userName) ? 'userName' : 'email');
/** A userName that is itself a valid username is the user's username, never suffixed (it is a name they answer to). */
const isHandle = (userName: string) => /^[A-Za-z0-9._-]{2,64}$/.test(userName);

/**
 * A look-up item younger than this may be a claim whose write is still under way (the name is
 * claimed before the user is written): it is never taken over, whoever it names.
 */
export const STALE_LOOK_UP_AFTER_MS = 2 * 60_000;

interface LookUpItem {
  readonly id: string;
  readonly tenantId: string;
  readonly type: string;
  readonly userId: string;
  readonly _etag?: string;
  readonly _ts?: number;
}

/** Claims made for a write, each undone when the write fails. */
class Claims {
  private readonly undo: Array<() => Promise<unknown>> = [];
  constructor(
    private readonly deps: Deps,
    private readonly tenantId: string,
    private readonly userId: string,
    private readonly log: Logger,
  ) {}

  private get store() {
    return this.deps.store;
  }

  async loginName(name: string, attributeName: string) {
    try {
      await claimLoginName(this.store, this.tenantId, name, this.userId);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (!(await this.takeOverStale(loginNameId(name), (holder) => answersToLoginName(holder, name)))) {
        throw uniqueness(`${attributeName} is already another user’s in this tenant`);
      }
    }
    this.undo.push(() => releaseLoginName(this.store, this.tenantId, name));
  }

  async externalId(externalId: string) {
    try {
      await claimExternalId(this.store, this.tenantId, externalId, this.userId);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (!(await this.takeOverStale(externalIdItemId(externalId), (holder) => sameExternalId(holder.scim?.externalId, externalId)))) {
        throw uniqueness('externalId is already another user’s in this tenant');
      }
    }
    this.undo.push(() => releaseExternalId(this.store, this.tenantId, externalId));
  }

  /**
   * A look-up item in the way that nobody holds any more (its user is gone, or no longer answers
   * to the name: a release that failed left it) is this user's now: replaced on its ETag, so of
   * two claims racing for it one wins. False while it is someone's, or too young to tell.
   */
  private async takeOverStale(itemId: string, holds: (holder: UserDoc) => boolean): Promise<boolean> {
    const item = this.store.container('accounts').item(itemId, this.tenantId);
    const { resource: found } = await item.read<LookUpItem>();
    if (!found || found._ts === undefined) return false;
    if (found.userId === this.userId) return true; // this user's own claim, left by an earlier attempt
    if (this.deps.now().getTime() - found._ts * 1000 < STALE_LOOK_UP_AFTER_MS) return false;
    const holder = await readUser(this.store, this.tenantId, found.userId);
    if (holder && holds(holder)) return false;
    try {
      await item.replace<LookUpItem>(
        { id: found.id, tenantId: found.tenantId, type: found.type, userId: this.userId },
        { accessCondition: { type: 'IfMatch', condition: found._etag! } },
      );
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) return false;
      throw error;
    }
    this.log.info('scim-stale-look-up-replaced', { tenantId: this.tenantId, userId: this.userId, formerUserId: found.userId });
    return true;
  }

  /** A username made from the userName's local part (`megan`, else `megan-2`…: entra-identity.ts). */
  async derivedUsername(userName: string) {
    const base = usernameBase(userName.split('@')[0] ?? '', `user-${this.userId.slice(0, 8)}`);
    const username = await claimUsername(this.store, this.tenantId, base, this.userId);
    this.undo.push(() => releaseLoginName(this.store, this.tenantId, username));
    return username;
  }

  /** Best effort, newest first: a release that fails leaves a look-up that names a user who no longer answers to it (users.ts reads through those). */
  async release() {
    for (const undo of this.undo.reverse()) await undo().catch(() => undefined);
  }
}

/** POST /Users: a new user of the tenant, role `user`, holding its names; 409 uniqueness when one is another user's. */
export async function createScimUser({ store, now }: Deps, caller: ScimCaller, body: unknown, log: Logger): Promise<ScimResource> {
  const input = readUserResource(resourceBody(body, USER_SCHEMA));
  const { tenantId } = caller;
  const userId = newId();
  const time = now();
  const email = input.email ?? placeholderEmail(userId);
  const claims = new Claims({ store, now }, tenantId, userId, log);
  try {
    // The names the identity provider chose first (their 409 is the answer it needs), the username last.
    const handle = isHandle(input.userName) ? input.userName : undefined;
    if (handle) await claims.loginName(handle, 'userName');
    for (const name of namesHeld({ email, username: handle ?? '' }, input.userName)) {
      await claims.loginName(name, labelOf(name, input.userName));
    }
    if (input.externalId !== undefined) await claims.externalId(input.externalId);
    const username = handle ?? (await claims.derivedUsername(input.userName));
    const user: UserDoc = {
      id: userId,
      tenantId,
      type: 'user',
      email,
      username,
      fullName: fullNameOf(input),
      role: 'user',
      lockout: { failures: 0, locks: 0 },
      refreshFamilies: [],
      ...(input.active === false ? { deactivatedAt: time.toISOString() } : {}),
      scim: profileOf(input, caller.tokenId, time),
      createdAt: time.toISOString(),
    };
    const { resource } = await store.container('accounts').items.create(user);
    await audit(store, log, { tenantId, actorId: scimActorId(caller.tokenId), action: 'scim.user-created', targetId: userId, at: now() });
    if (input.active === false) {
      await audit(store, log, {
        tenantId,
        actorId: scimActorId(caller.tokenId),
        action: 'scim.user-deactivated',
        targetId: userId,
        at: now(),
      });
    }
    return scimUser(resource ?? user);
  } catch (error) {
    await claims.release();
    throw error;
  }
}

function profileOf(input: ScimUserInput, createdBy: string, time: Date): ScimProfile {
  return {
    userName: input.userName,
    ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
    ...(input.name ? { name: input.name } : {}),
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    ...(input.enterprise ? { enterprise: input.enterprise } : {}),
    createdBy,
    updatedAt: time.toISOString(),
  };
}

async function existing(store: Store, caller: ScimCaller, id: string): Promise<UserDoc> {
  const user = isOurId(id) ? await readUser(store, caller.tenantId, id) : undefined;
  if (!user) throw notFound('User');
  return user;
}

/** GET /Users/{id}: one point read in the token's tenant; any other id is 404. */
export async function getScimUser({ store }: Deps, caller: ScimCaller, id: string): Promise<ScimResource> {
  return scimUser(await existing(store, caller, id));
}

/** The user a login name's look-up item names, when they answer to it as `matches` says (1–2 point reads). */
async function userByLoginName(store: Store, tenantId: string, name: string, matches: (user: UserDoc) => boolean) {
  if (unfitForLookUp(name) || name.trim() === '' || name.length > MAX_NAME) return undefined;
  const { resource: entry } = await store.container('accounts').item(loginNameId(name), tenantId).read<{ type: string; userId: string }>();
  if (entry?.type !== 'login-name') return undefined;
  const user = await readUser(store, tenantId, entry.userId);
  return user && matches(user) ? user : undefined;
}

/** The one user a supported filter names, or none: point reads only (filter.ts). */
async function filteredUser(store: Store, tenantId: string, filter: string): Promise<UserDoc | undefined> {
  const { attribute: name, value } = userFilter(filter);
  switch (name) {
    case 'userName':
      return userByLoginName(store, tenantId, value, (user) => sameNames(scimUser(user).userName as string, value));
    case 'email':
      return userByLoginName(store, tenantId, value, (user) => sameNames(user.email, value));
    case 'externalId':
      return value.trim() === '' ? undefined : findUserByExternalId(store, tenantId, value);
    case 'id':
      return isOurId(value) ? readUser(store, tenantId, value) : undefined;
  }
}

/**
 * GET /Users: with a filter, the one user it names (or none); without, a page of the tenant's
 * users by id (ids never change, so a page holds still while users change), and their count.
 * The local Cosmos stand-in has no OFFSET, so a page is the first startIndex + count − 1 users
 * and the rest skipped here; each is read as the few fields the view shows (docs/data.md gives
 * the cost; identity providers page rarely: they filter).
 */
export async function listScimUsers({ store }: Deps, caller: ScimCaller, query: ListQuery): Promise<ScimList> {
  if (query.filter !== undefined) {
    const user = await filteredUser(store, caller.tenantId, query.filter);
    return listOf(user ? [scimUser(user)] : [], query);
  }
  const { startIndex, count } = paging(query);
  const totalResults = await countUsers(store, caller.tenantId);
  if (count === 0 || startIndex > totalResults) return { totalResults, startIndex, itemsPerPage: 0, Resources: [] };
  const { resources } = await store
    .container('accounts')
    .items.query<ListedUser>(
      {
        query: `SELECT TOP @take ${LISTED_FIELDS.map((f) => `c.${f}`).join(', ')} FROM c WHERE c.tenantId = @tenantId AND c.type = 'user' ORDER BY c.id`,
        parameters: [
          { name: '@tenantId', value: caller.tenantId },
          { name: '@take', value: startIndex - 1 + count },
        ],
      },
      { partitionKey: caller.tenantId },
    )
    .fetchAll();
  const Resources = resources.slice(startIndex - 1).map(scimUser);
  return { totalResults, startIndex, itemsPerPage: Resources.length, Resources };
}

/**
 * The user written as the identity provider now says (PUT, or a PATCH's result): new names and
 * externalId claimed before the write (409 uniqueness when another user's), the old ones released
 * after it; activation in the same write (deactivation ends every refresh family). The user
 * keeps its username and role; a user without a SCIM profile gets one.
 */
async function writeScimUser({ store, now }: Deps, caller: ScimCaller, user: UserDoc, input: ScimUserInput, log: Logger) {
  const { tenantId } = caller;
  const time = now();
  const email = input.email ?? (isPlaceholder(user.email) ? user.email : placeholderEmail(user.id));
  const before = namesHeld(user, user.scim?.userName);
  const after = namesHeld({ email, username: user.username }, input.userName);
  const claims = new Claims({ store, now }, tenantId, user.id, log);
  let updated: UserDoc | undefined;
  try {
    for (const name of after.filter((n) => !before.some((b) => sameNames(b, n)))) {
      await claims.loginName(name, labelOf(name, input.userName));
    }
    const externalIdChanged = input.externalId !== undefined && !sameExternalId(input.externalId, user.scim?.externalId);
    if (externalIdChanged) await claims.externalId(input.externalId!);
    const profile = profileOf(input, user.scim?.createdBy ?? caller.tokenId, time);
    const change = (current: UserDoc): UserDoc => {
      // Another write changed what this one claimed against (a racing PUT): it gives way, its claims released.
      if (
        current.email !== user.email ||
        current.scim?.userName !== user.scim?.userName ||
        current.scim?.externalId !== user.scim?.externalId
      ) {
        throw new Conflict('the user was changed at the same time; read it again');
      }
      const next: UserDoc = { ...current, email, fullName: fullNameOf(input), scim: profile };
      if (input.active === false) return deactivated(next, time);
      if (input.active === true) return reactivated(next);
      return next;
    };
    updated = await updateUser(store, user, change);
    if (!updated) throw notFound('User');
  } catch (error) {
    await claims.release();
    throw error;
  }
  // Written: the new names are the user's now, whatever fails below. The old ones are freed and
  // the change audited best effort (a look-up left behind is stale, and the next claim takes it over).
  const done = updated;
  const bestEffort = (step: string, work: () => Promise<unknown>) =>
    work().catch((error: unknown) => {
      log.warn('scim-user-after-write-failed', { tenantId, userId: user.id, step, error: errorName(error) });
    });
  for (const name of before.filter((b) => !after.some((n) => sameNames(b, n)))) {
    await bestEffort('release-login-name', () => releaseLoginName(store, tenantId, name));
  }
  const oldExternalId = user.scim?.externalId;
  if (oldExternalId !== undefined && !sameExternalId(oldExternalId, input.externalId)) {
    await bestEffort('release-external-id', () => releaseExternalId(store, tenantId, oldExternalId));
  }
  await bestEffort('audit', () => auditChange(store, log, caller, user, done, time));
  return done;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

async function auditChange(store: Store, log: Logger, caller: ScimCaller, before: UserDoc, after: UserDoc, at: Date) {
  const record = (action: AuditAction, details?: { fields: string[] }) =>
    audit(store, log, {
      tenantId: caller.tenantId,
      actorId: scimActorId(caller.tokenId),
      action,
      targetId: after.id,
      ...(details ? { details } : {}),
      at,
    });
  const fields = (['email', 'fullName'] as const).filter((f) => before[f] !== after[f]) as string[];
  for (const key of ['userName', 'externalId', 'name', 'displayName', 'enterprise'] as const) {
    if (JSON.stringify(before.scim?.[key]) !== JSON.stringify(after.scim?.[key])) fields.push(key);
  }
  if (fields.length > 0 || !before.scim) await record('scim.user-changed', { fields });
  if (!isDeactivated(before) && isDeactivated(after)) {
    await record('scim.user-deactivated');
    if (after.role === 'admin' && !(await anotherActiveAdmin(store, after))) {
      // The directory is the truth: the tenant's last active admin goes (by ids only).
      log.warn('scim-last-admin-deactivated', { tenantId: after.tenantId, userId: after.id });
    }
  }
  if (isDeactivated(before) && !isDeactivated(after)) await record('scim.user-reactivated');
}

async function anotherActiveAdmin(store: Store, user: UserDoc): Promise<boolean> {
  const { resources } = await store
    .container('accounts')
    .items.query<UserDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'user' AND c.role = 'admin'",
        parameters: [{ name: '@tenantId', value: user.tenantId }],
      },
      { partitionKey: user.tenantId },
    )
    .fetchAll();
  return resources.some((admin) => admin.id !== user.id && admin.deactivatedAt === undefined);
}

/** PUT /Users/{id}: the user replaced by the body (attributes left out are cleared; `active` left out stays). */
export async function replaceScimUser(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const input = readUserResource(resourceBody(body, USER_SCHEMA));
  const user = await existing(deps.store, caller, id);
  return scimUser(await writeScimUser(deps, caller, user, input, log));
}

/** PATCH /Users/{id}: the operations applied to the user as SCIM shows it (patch.ts), the result read back in our terms. */
export async function patchScimUser(deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger): Promise<ScimResource> {
  const operations = patchOperations(body);
  const user = await existing(deps.store, caller, id);
  const view = scimUser(user) as ScimResource & { schemas: string[] };
  const patched = await applyPatch(view, operations);
  return scimUser(await writeScimUser(deps, caller, user, readUserResource(patched), log));
}

/**
 * DELETE /Users/{id}: the user's erasure (data-rights.ts), audited as `user.erased` by the token.
 * The same id again is 404; the tenant's last admin is 409.
 */
export async function deleteScimUser(deps: Deps, caller: ScimCaller, id: string, log: Logger): Promise<void> {
  if (!isOurId(id)) throw notFound('User');
  try {
    const erased = await eraseAccountAs(deps, { tenantId: caller.tenantId, actorId: scimActorId(caller.tokenId) }, id, log);
    if (!erased) throw notFound('User');
  } catch (error) {
    if (error instanceof Conflict) {
      throw new ScimError(409, 'this user is the tenant’s last admin; make someone else admin in Roger before deleting them');
    }
    throw error;
  }
}

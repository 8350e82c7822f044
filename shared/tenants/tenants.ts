import type { ItemDefinition } from '@azure/cosmos';
import { domainToASCII } from 'node:url';
import { Type } from '@sinclair/typebox';
import { audit, type Actor } from '../audit/audit.js';
import { Conflict, NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import { isConflict } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { newId } from '../tokens/secrets.js';
import { defaultTenantPolicy, type TenantPolicy } from './policy.js';
import { keepsAWayIn, signInDeadEnd } from './sign-in-methods.js';
import { readUser } from '../users/users.js';
import { countUsers } from '../users/admin.js';
import { pinOnlyRefusal } from './pin-density.js';

export const TenantSlugSchema = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  minLength: 1,
  maxLength: 63,
  description: 'Tenant slug: lowercase letters, digits and inner hyphens, at most 63 characters.',
});

const SLUG = new RegExp(TenantSlugSchema.pattern!);

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly region: string;
  readonly policy: TenantPolicy;
  readonly createdAt: string;
  /**
   * The Microsoft Entra ID tenants (`tid`, lower case) whose people sign in here (docs/flows.md,
   * Sign in with Microsoft); each was bound by admin consent or by the first admin's sign-in.
   */
  readonly entraTenantIds?: readonly string[];
  /**
   * The operator created the tenant for a Microsoft-first start: the first person to sign in with
   * Microsoft holding the `Roger.Admin` app role binds their `tid` and becomes an admin. Cleared,
   * in the same conditional write, by that binding: it works once.
   */
  readonly bindEntraOnFirstAdminSignIn?: boolean;
  /**
   * Email domains (lower case) that lead the sign-in page to this tenant, each claimed in the
   * global directory as `@domain`. Set by the operator, who verified them; never by a tenant admin.
   */
  readonly emailDomains?: readonly string[];
}

/**
 * An email domain as the operator gives it: lower-case ASCII labels (an internationalized domain
 * in its punycode `xn--` form), at least two of them. Never an address: no `@`.
 */
export const EmailDomainSchema = Type.String({
  pattern: '^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  description: 'An email domain in lower case (`contoso.com`); an internationalized one in its punycode form (`xn--…`).',
});
const EMAIL_DOMAIN = new RegExp(EmailDomainSchema.pattern!);

/**
 * The global directory entry: slug → home region and tenant id; nothing personal. An email
 * domain's entry has the id `@<domain>` (a slug never holds `@`, so the two cannot collide).
 */
interface DirectoryEntry {
  readonly id: string;
  readonly region: string;
  readonly tenantId: string;
}

/**
 * Tenants change rarely and are read on every sign-in, so each instance keeps them for a
 * minute: a policy change reaches every instance within CACHE_MS. Only ids, slugs and policy
 * are cached, nothing about people. Misses are not cached, so a new tenant is found at once.
 */
const CACHE_MS = 60_000;
const caches = new WeakMap<Store, Map<string, { value: unknown; until: number }>>();

async function cachedPointRead<T extends ItemDefinition>(
  store: Store,
  name: 'tenants' | 'tenantDirectory',
  id: string,
): Promise<T | undefined> {
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new Map()));
  const key = `${name}/${id}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.value as T;
  const { resource } = await store.container(name).item(id, id).read<T>();
  if (resource) cache.set(key, { value: resource, until: Date.now() + CACHE_MS });
  return resource;
}

const forgetCached = (store: Store, name: 'tenants' | 'tenantDirectory', id: string) => caches.get(store)?.delete(`${name}/${id}`);

/** A policy field added after a tenant was created reads as its default. */
export async function readTenant(store: Store, tenantId: string): Promise<Tenant | undefined> {
  const tenant = await cachedPointRead<Tenant>(store, 'tenants', tenantId);
  return tenant && { ...tenant, policy: currentPolicy(tenant.policy) };
}

/**
 * A policy as stored, in today's terms. Fields added since it was written read as their
 * defaults. And a policy from before `allowedLoginMethods` named `password` (it has no
 * `printerFailedSignInLimit`, added with it) allowed passwords at printers wherever it allowed
 * PINs: it keeps doing so, rather than turning a typed password into a wrong PIN.
 */
function currentPolicy(stored: Partial<TenantPolicy>): TenantPolicy {
  const legacy =
    stored.printerFailedSignInLimit === undefined &&
    stored.allowedLoginMethods?.includes('pin') &&
    !stored.allowedLoginMethods.includes('password');
  const allowedLoginMethods = legacy ? [...stored.allowedLoginMethods!, 'password' as const] : stored.allowedLoginMethods;
  return { ...defaultTenantPolicy, ...stored, ...(allowedLoginMethods ? { allowedLoginMethods } : {}) };
}
/** The tenant as stored now (before a change: the cached copy may be a minute old). */
export function readTenantFresh(store: Store, tenantId: string) {
  forgetCached(store, 'tenants', tenantId);
  return readTenant(store, tenantId);
}
const readDirectoryEntry = (store: Store, slug: string) => cachedPointRead<DirectoryEntry>(store, 'tenantDirectory', slug);

/** The tenant's home region id, or undefined for an unknown slug (discovery). */
export async function lookupTenantRegion(store: Store, slug: string): Promise<string | undefined> {
  return (await readDirectoryEntry(store, slug))?.region;
}

/** A tenant of *this* region by slug, or undefined (unknown, or homed elsewhere). */
export async function findTenantBySlug(store: Store, slug: string, region: string): Promise<Tenant | undefined> {
  // Only a well-formed slug can be a directory id (a `/` or `?` would address another item or none).
  if (!SLUG.test(slug)) return undefined;
  const entry = await readDirectoryEntry(store, slug);
  if (!entry || entry.region !== region) return undefined;
  return readTenant(store, entry.tenantId);
}

/**
 * The tenant a person means on the sign-in page, in this region: text with an `@` is an email
 * address (or just `@domain`), found by its domain's directory entry, which the operator
 * claimed for one tenant; anything else is a slug. Undefined when nothing matches, and when the
 * tenant is homed in another region. Case and surrounding spaces do not matter; a Unicode
 * domain finds its punycode entry.
 */
export async function findTenantForSignIn(store: Store, text: string, region: string): Promise<Tenant | undefined> {
  const typed = text.trim().toLowerCase();
  const at = typed.lastIndexOf('@');
  if (at < 0) return findTenantBySlug(store, typed, region);
  const domain = emailDomainOf(typed.slice(at + 1));
  if (!domain) return undefined;
  const entry = await readDirectoryEntry(store, `@${domain}`);
  if (!entry || entry.region !== region) return undefined;
  return readTenant(store, entry.tenantId);
}

/** The domain in the directory's form (lower-case ASCII), or undefined when it cannot be one. */
export function emailDomainOf(text: string): string | undefined {
  // domainToASCII gives '' for what no domain can be; an ASCII domain passes through lower-cased.
  const ascii = domainToASCII(text.trim());
  return EMAIL_DOMAIN.test(ascii) ? ascii : undefined;
}

export class SlugTaken extends Error {}

/** The operator asked for an email domain that another tenant (in any region) already has. */
export class EmailDomainTaken extends Error {
  constructor(readonly domain: string) {
    super('this email domain belongs to another tenant');
  }
}

/**
 * Claims the slug and then each email domain in the global directory (the global uniqueness
 * checks: a create fails on an id that exists), then writes the tenant. If anything fails, every
 * claim made so far is released: nothing half-written stays.
 */
export async function createTenant(
  { store, config, now }: Services,
  input: {
    slug: string;
    name: string;
    policy?: Partial<TenantPolicy>;
    emailDomains?: readonly string[];
    bindEntraOnFirstAdminSignIn?: boolean;
  },
): Promise<Tenant> {
  const emailDomains = [...new Set((input.emailDomains ?? []).map((domain) => domain.toLowerCase()))];
  const tenant: Tenant = {
    id: newId(),
    slug: input.slug,
    name: input.name,
    region: config.region.id,
    policy: { ...defaultTenantPolicy, ...input.policy },
    createdAt: now().toISOString(),
    ...(emailDomains.length > 0 ? { emailDomains } : {}),
    ...(input.bindEntraOnFirstAdminSignIn ? { bindEntraOnFirstAdminSignIn: true } : {}),
  };
  // A policy seeded with pinOnly obeys the density rule too, for the one admin it starts with (pin-density.ts).
  const tooDense = pinOnlyRefusal(tenant.policy, 1);
  if (tooDense) throw new Conflict(tooDense.detail, { field: 'policy.pinOnly', ...tooDense.density });
  const directory = store.container('tenantDirectory');
  const entry = (id: string): DirectoryEntry => ({ id, region: tenant.region, tenantId: tenant.id });
  try {
    await directory.items.create<DirectoryEntry>(entry(tenant.slug));
  } catch (error) {
    if (isConflict(error)) throw new SlugTaken();
    throw error;
  }
  const claimed: string[] = [tenant.slug];
  try {
    for (const domain of emailDomains) {
      try {
        await directory.items.create<DirectoryEntry>(entry(`@${domain}`));
      } catch (error) {
        if (isConflict(error)) throw new EmailDomainTaken(domain);
        throw error;
      }
      claimed.push(`@${domain}`);
    }
    await store.container('tenants').items.create(tenant);
  } catch (error) {
    await releaseDirectoryEntries(store, tenant.id, claimed);
    throw error;
  }
  return tenant;
}

/**
 * Deletes the tenant's directory entries (its slug, `@domain`s), each only while it still names
 * this tenant: a release never frees a name someone else holds. Best effort, like every undo here.
 */
async function releaseDirectoryEntries(store: Store, tenantId: string, ids: readonly string[]): Promise<void> {
  const directory = store.container('tenantDirectory');
  for (const id of ids) {
    try {
      const { resource } = await directory.item(id, id).read<DirectoryEntry & { _etag?: string }>();
      if (resource?.tenantId === tenantId) {
        await directory.item(id, id).delete({ accessCondition: { type: 'IfMatch', condition: resource._etag! } });
      }
    } catch {
      // Gone already, or changed since the read: either way it is not this tenant's to release.
    } finally {
      forgetCached(store, 'tenantDirectory', id);
    }
  }
}

/** Undo createTenant (used when creating the first admin fails), or remove a tenant: its slug and email domains are free again. */
export async function removeTenant(store: Store, tenant: Tenant): Promise<void> {
  await store
    .container('tenants')
    .item(tenant.id, tenant.id)
    .delete()
    .catch(() => undefined);
  await releaseDirectoryEntries(store, tenant.id, [tenant.slug, ...(tenant.emailDomains ?? []).map((domain) => `@${domain}`)]);
  forgetCached(store, 'tenants', tenant.id);
}

/** Each 412 is another admin's change written first; admins of one tenant rarely change it at once. */
const TENANT_WRITE_ATTEMPTS = 10;

/**
 * Changes the tenant (name, policy): `change` is applied to the tenant as stored and written
 * conditionally on its ETag; when another admin's change was written first (412), it is
 * applied again on top of that one, so neither is lost and neither fails. Other instances see
 * the change within their cache's minute. Undefined when the tenant is gone.
 */
export async function updateTenant(store: Store, tenantId: string, change: (tenant: Tenant) => Tenant): Promise<Tenant | undefined> {
  const tenant = await readTenantFresh(store, tenantId);
  if (!tenant) return undefined;
  try {
    return await writeOnLatest(
      tenant,
      (current) => replaceIfUnchanged(store.container('tenants'), change(current), tenantId),
      () => readTenantFresh(store, tenantId),
      TENANT_WRITE_ATTEMPTS,
    );
  } finally {
    forgetCached(store, 'tenants', tenantId);
  }
}

/**
 * The policy with `changes` applied. Retention is one setting in two units: days sent alone
 * replace hours set before, so the value an admin just sent is the one that holds.
 */
function mergedPolicy(policy: TenantPolicy, changes: Partial<TenantPolicy> | undefined): TenantPolicy {
  const merged = { ...policy, ...changes };
  if (changes?.jobRetentionDays !== undefined && changes.jobRetentionHours === undefined) delete merged.jobRetentionHours;
  return merged;
}

/**
 * An admin changes the tenant's name or policy; only the fields sent change (see updateTenant).
 * Audited by field name (`name`, `policy.<field>`), never the values.
 */
export async function changeTenant(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  changes: { readonly name?: string; readonly policy?: Partial<TenantPolicy> },
  log: Logger,
): Promise<Tenant> {
  // An admin who changes how people sign in must keep a way in themselves (read before the write:
  // argon2 hashes and Entra links do not change with the tenant item).
  const self = changes.policy?.signInMethods ? await readUser(store, admin.tenantId, admin.userId) : undefined;
  // PIN-only sign-in is judged against the tenant's size whenever it, or what it depends on, changes (pin-density.ts).
  const densityChanged = ['pinOnly', 'pinMinLength', 'pinDensity'].some(
    (field) => changes.policy?.[field as keyof TenantPolicy] !== undefined,
  );
  const users = densityChanged ? await countUsers(store, admin.tenantId) : undefined;
  const updated = await updateTenant(store, admin.tenantId, (tenant) => {
    const changed = {
      ...tenant,
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      policy: mergedPolicy(tenant.policy, changes.policy),
    };
    // Judged on the tenant as stored at this write, so a binding written meanwhile counts.
    const deadEnd = signInDeadEnd(changed);
    if (deadEnd) throw new Conflict(deadEnd, { field: 'policy.signInMethods' });
    const tooDense = users === undefined ? undefined : pinOnlyRefusal(changed.policy, users);
    if (tooDense) throw new Conflict(tooDense.detail, { field: 'policy.pinOnly', ...tooDense.density });
    // PIN-only sign-in is a PIN sign-in: it needs PINs allowed (docs/security.md#pin-only-sign-in).
    if (changed.policy.pinOnly && !changed.policy.allowedLoginMethods.includes('pin')) {
      throw new Conflict('PIN-only sign-in needs pin among allowedLoginMethods: allow PINs, or turn pinOnly off', {
        field: 'policy.pinOnly',
      });
    }
    if (self && !keepsAWayIn(changed, self)) {
      throw new Conflict(
        'this would lock you out: keep a way you sign in to the apps yourself (a Roger password, or Microsoft from a connected organisation); another admin who has one can make the change',
        { field: 'policy.signInMethods' },
      );
    }
    return changed;
  });
  if (!updated) throw new NotFound('the tenant no longer exists');
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'tenant.policy-changed',
    details: {
      fields: [...(changes.name !== undefined ? ['name'] : []), ...Object.keys(changes.policy ?? {}).map((field) => `policy.${field}`)],
    },
    at: now(),
  });
  return updated;
}

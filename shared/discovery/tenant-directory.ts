import { Type } from '@sinclair/typebox';
import type { Store } from '../store/store.js';

/**
 * The global tenant directory: slug → home region, and nothing else (no names, no people), so
 * it may live outside the tenant's region. One item per tenant, id = slug, partition = id:
 * every look-up is a 1 RU point read.
 */
export const TenantSlugSchema = Type.String({
  pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$',
  minLength: 1,
  maxLength: 63,
  description: 'Tenant slug: lowercase letters, digits and inner hyphens, at most 63 characters.',
});

interface DirectoryEntry {
  id: string;
  region: string;
}

/** The tenant's home region id, or undefined for an unknown slug. */
export async function lookupTenantRegion(store: Store, slug: string): Promise<string | undefined> {
  const { resource } = await store.container('tenantDirectory').item(slug, slug).read<DirectoryEntry>();
  return resource?.region;
}

/** Claims `slug` for a tenant in `region`; false when the slug is taken (in any region). */
export async function registerTenantRegion(store: Store, slug: string, region: string): Promise<boolean> {
  try {
    await store.container('tenantDirectory').items.create<DirectoryEntry>({ id: slug, region });
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 409) return false;
    throw error;
  }
}

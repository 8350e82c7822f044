import { isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { hashSecret } from '../tokens/secrets.js';
import { readUser, type UserDoc } from './users.js';

/**
 * A provisioned user's `externalId` (the identity provider's id for the person; Entra's object id
 * when the mapping says so: docs/provisioning.md) names the user through a point-readable look-up
 * item in the tenant's partition, like the `login:` and `entra:` items. The id holds a hash of the
 * value: an identity provider may send any characters, and Cosmos ids take not all of them.
 * Unique per tenant; compared case-insensitively (Entra's GUIDs come in either case).
 */
interface ExternalIdDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'scim-external';
  readonly userId: string;
}

const normalize = (externalId: string) => externalId.trim().toLowerCase();
export const externalIdItemId = (externalId: string) => `scim-external:${hashSecret(normalize(externalId))}`;
export const sameExternalId = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && normalize(a) === normalize(b);

/** Claims the externalId for the user; the store's 409 (Conflict) when another user holds it. Returns the item id. */
export async function claimExternalId(store: Store, tenantId: string, externalId: string, userId: string): Promise<string> {
  const id = externalIdItemId(externalId);
  await store.container('accounts').items.create<ExternalIdDoc>({ id, tenantId, type: 'scim-external', userId });
  return id;
}

/** Frees an externalId (idempotent). */
export async function releaseExternalId(store: Store, tenantId: string, externalId: string): Promise<void> {
  await store
    .container('accounts')
    .item(externalIdItemId(externalId), tenantId)
    .delete()
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
}

/** The user whose SCIM profile holds this externalId now (two point reads), or undefined. */
export async function findUserByExternalId(store: Store, tenantId: string, externalId: string): Promise<UserDoc | undefined> {
  const { resource: entry } = await store.container('accounts').item(externalIdItemId(externalId), tenantId).read<ExternalIdDoc>();
  if (entry?.type !== 'scim-external') return undefined;
  const user = await readUser(store, tenantId, entry.userId);
  // The look-up item can outlive a change of the value (a rename cut short): the user decides.
  return user && sameExternalId(user.scim?.externalId, externalId) ? user : undefined;
}

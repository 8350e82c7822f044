import { readDevice, replaceDevice, type DeviceDoc } from '../devices/devices.js';
import type { Store } from '../store/store.js';
import { readUser, replaceUser, type UserDoc } from '../users/users.js';
import type { ParsedRefreshToken } from './refresh-families.js';

/** The item that holds a refresh token's family: a user (`u`) or a printer (`d`). */
export type TokenOwner = UserDoc | DeviceDoc;

/** One point read in the token's tenant partition. */
export async function readTokenOwner(store: Store, token: ParsedRefreshToken): Promise<TokenOwner | undefined> {
  return token.owner === 'u' ? readUser(store, token.tenantId, token.ownerId) : readDevice(store, token.tenantId, token.ownerId);
}

/** Conditional on the ETag it was read with: of two racing writers, one gets a 412. */
export async function saveTokenOwner(store: Store, owner: TokenOwner): Promise<void> {
  if (owner.type === 'user') await replaceUser(store, owner);
  else await replaceDevice(store, owner);
}

import { Conflict } from '../errors.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import { isConflict } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';

/**
 * "A tenant always keeps one admin", made to hold under concurrency.
 *
 * Counting admins and then writing the user is a check-then-act race: two admins demoting each
 * other at once both counted two and the tenant ended with none. So every change that takes an
 * admin away goes first through one item per tenant, the roster of its admins, written
 * conditionally on its ETag: of two racing removals exactly one writes the roster, the other
 * re-reads it, sees a single admin left and is refused.
 *
 * Order keeps the roster on the safe side: an admin is taken off the roster *before* the user
 * item loses the role (every demotion and erasure asks, whatever role it read), and put on it
 * only *after* the user item has it. Missing an admin can only refuse a removal. Listing a
 * non-admin (a step that failed half-way) could allow the last one, so a removal counts only
 * the others it confirms by reading their user items.
 */
interface AdminRosterDoc {
  readonly id: typeof ROSTER_ID;
  readonly tenantId: string;
  readonly type: 'admin-roster';
  readonly userIds: readonly string[];
  readonly _etag?: string;
}

const ROSTER_ID = 'admin-roster';

/** Each 412 means another admin change was written first; a handful of admins change at once at most. */
const ROSTER_WRITE_ATTEMPTS = 20;

export const lastAdminProblem = () => new Conflict('this is the tenant’s last admin; make someone else admin first');

/**
 * The roster, made from the users on first use (tenants created before it existed). A racing
 * first use creates it too: the loser of the create reads the winner's.
 */
async function readRoster(store: Store, tenantId: string): Promise<AdminRosterDoc> {
  const accounts = store.container('accounts');
  const { resource } = await accounts.item(ROSTER_ID, tenantId).read<AdminRosterDoc>();
  if (resource) return resource;
  const { resources: userIds } = await accounts.items
    .query<string>(
      {
        query: "SELECT VALUE c.id FROM c WHERE c.tenantId = @tenantId AND c.type = 'user' AND c.role = 'admin'",
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  try {
    const { resource: created } = await accounts.items.create<AdminRosterDoc>({ id: ROSTER_ID, tenantId, type: 'admin-roster', userIds });
    return created!;
  } catch (error) {
    if (!isConflict(error)) throw error;
    const { resource: theirs } = await accounts.item(ROSTER_ID, tenantId).read<AdminRosterDoc>();
    return theirs!;
  }
}

const changeRoster = async (
  store: Store,
  tenantId: string,
  change: (roster: AdminRosterDoc) => AdminRosterDoc | undefined | Promise<AdminRosterDoc | undefined>,
) => {
  await writeOnLatest(
    await readRoster(store, tenantId),
    async (roster) => {
      const changed = await change(roster);
      if (changed) await replaceIfUnchanged(store.container('accounts'), changed, tenantId);
    },
    () => readRoster(store, tenantId),
    ROSTER_WRITE_ATTEMPTS,
  );
};

/**
 * Those of `userIds` who are admins as their user items say now. The roster can hold a ghost —
 * an admin erased or demoted by a step that failed half-way, or by a request that read the user
 * before a promotion — and a ghost must never be the admin a removal counts on.
 */
async function confirmedAdmins(store: Store, tenantId: string, userIds: readonly string[]): Promise<string[]> {
  const users = await Promise.all(
    userIds.map((id) => store.container('accounts').item(id, tenantId).read<{ type?: string; role?: string }>()),
  );
  return userIds.filter((_, i) => users[i]!.resource?.type === 'user' && users[i]!.resource?.role === 'admin');
}

/**
 * Before a user loses the admin role (demotion, erasure): refused with 409 unless another
 * admin, confirmed by reading their user item, stays. Ghosts found on the way leave the roster
 * in the same conditional write. A rare path: one point read per other admin.
 */
export function takeOffRoster(store: Store, tenantId: string, userId: string): Promise<void> {
  return changeRoster(store, tenantId, async (roster) => {
    if (!roster.userIds.includes(userId)) return undefined;
    const others = await confirmedAdmins(
      store,
      tenantId,
      roster.userIds.filter((id) => id !== userId),
    );
    if (others.length === 0) throw lastAdminProblem();
    return { ...roster, userIds: others };
  });
}

/** After a user has gained the admin role (promotion, an admin created), or to undo a removal that did not happen. */
export function putOnRoster(store: Store, tenantId: string, userId: string): Promise<void> {
  return changeRoster(store, tenantId, (roster) =>
    roster.userIds.includes(userId) ? undefined : { ...roster, userIds: [...roster.userIds, userId] },
  );
}

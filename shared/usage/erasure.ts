import type { PatchOperation } from '@azure/cosmos';
import { isBadRequest, isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { userDayRows } from './reports.js';
import { FIGURES, counterKey, nameKey, pointerSegment } from './usage.js';

/**
 * A user's figures leave the usage aggregates with them (docs/data.md#usage-aggregates): their
 * counters and username come out of every day item of the tenant, by patch `remove`; the printers'
 * counters (and so the day's totals) stay, since they name nobody. The days are found by one
 * query of the tenant's partition projecting only the user's keys (at most USAGE_RETENTION_DAYS
 * items, a few hundred bytes each); then one patch per day the user printed on.
 */
export async function eraseUserUsage(store: Store, tenantId: string, userId: string): Promise<number> {
  const rows = await userDayRows(store, tenantId, userId);
  let erased = 0;
  for (const row of rows) {
    const operations: PatchOperation[] = [
      ...FIGURES.filter((figure) => row[figure] !== undefined).map((figure): PatchOperation => ({
        op: 'remove',
        path: `/counts/${pointerSegment(counterKey('user', userId, figure))}`,
      })),
      ...(row.name !== undefined ? [{ op: 'remove', path: `/names/${pointerSegment(nameKey('user', userId))}` } as PatchOperation] : []),
    ];
    if (operations.length === 0) continue;
    try {
      await store.container('usage').item(row.id, tenantId).patch(operations);
      erased += 1;
    } catch (error) {
      // The day expired meanwhile (404), or a racing erasure removed the keys first (400: a
      // remove of an absent path); either way nothing of the user is left there.
      if (!isNotFound(error) && !isBadRequest(error)) throw error;
    }
  }
  return erased;
}

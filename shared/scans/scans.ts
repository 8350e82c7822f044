import type { Store } from '../store/store.js';
import { newId } from '../tokens/secrets.js';

/**
 * What is kept of a scan (docs/data.md#scans-scans): when it happened and which tenant it counts against.
 * Nothing else: no user, no file name, no profile, no content. Kept for the tenant's retention.
 */
export interface ScanRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly scannedAt: string;
  /** Cosmos TTL in seconds. */
  readonly ttl: number;
}

export async function recordScan(store: Store, tenantId: string, now: Date, retentionDays: number): Promise<ScanRecord> {
  const record: ScanRecord = { id: newId(), tenantId, scannedAt: now.toISOString(), ttl: retentionDays * 86400 };
  await store.container('scans').items.create(record);
  return record;
}

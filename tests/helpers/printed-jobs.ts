import { jobPartition, type JobDoc, type PrintedCounts } from '../../shared/jobs/jobs.js';
import { uniqueTag } from './fixtures.js';

/**
 * A job as a printer's report leaves it (`printed`, with or without figures), for tests that put
 * jobs straight into the store rather than print them one by one through a printer.
 */
export function printedJob(
  owner: { readonly tenantId: string; readonly userId: string; readonly username: string },
  printerId: string,
  printedAt: Date,
  printed: PrintedCounts | undefined,
  n = 0,
): JobDoc {
  const at = printedAt.toISOString();
  return {
    id: `job-${n}-${uniqueTag()}`,
    pk: jobPartition(owner.tenantId, owner.userId),
    type: 'job',
    tenantId: owner.tenantId,
    userId: owner.userId,
    userEmail: `${owner.username}@usage.test`,
    username: owner.username,
    fileName: `report-${n}.pdf`,
    size: 1000 + n,
    options: { copies: 1, duplex: printed?.duplex ?? true, color: (printed?.colorPages ?? 0) > 0, paperSize: printed?.paperSize ?? 'A4' },
    state: 'printed',
    createdAt: at,
    updatedAt: at,
    expiresAt: new Date(printedAt.getTime() + 7 * 86_400_000).toISOString(),
    ttl: 7 * 86_400,
    releasedTo: printerId,
    releaseId: `release-${n}`,
    releasedAt: at,
    printedAt: at,
    ...(printed ? { printed } : {}),
  };
}

/** 32 hex digits, like the ids the app makes. */
export const hexId = () => `${uniqueTag()}${uniqueTag()}${uniqueTag()}${uniqueTag()}`;

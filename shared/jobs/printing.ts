import { Conflict, Forbidden, Invalid, NotFound, Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { isNameOfUpload, isOneDriveName } from '../onedrive/file-names.js';
import type { DriveItemInfo } from '../onedrive/graph-drive.js';
import { readLink, type OneDriveLinkDoc } from '../onedrive/links.js';
import { connectedLink, requireConnectedLink } from '../onedrive/onedrive.js';
import type { ReleaseTarget } from '../release/plan.js';
import { releaseJobs, type ReleaseOwner } from '../release/release.js';
import type { Services } from '../services.js';
import { readDevice } from '../devices/devices.js';
import { jobRetentionHours, type TenantPolicy } from '../tenants/policy.js';
import { readTenant } from '../tenants/tenants.js';
import { requireActive } from '../users/activation.js';
import { readUser } from '../users/users.js';
import { finishJob, pendingCleanup } from './after-print.js';
import { checkPrintedCounts, type PrintReport } from './printed-report.js';
import {
  assertTransition,
  registerJob,
  readJob,
  requireJob,
  transitionJob,
  type JobDoc,
  type JobOptions,
  type JobRequest,
} from './jobs.js';

/**
 * Printing, as its users do it (docs/flows.md#print-jobs): submit a job, confirm its upload,
 * release it at a printer, or print a file straight from the Print folder; and cancel, and the
 * printer's report that it printed. Each is one function the HTTP edge calls once; the job state
 * machine and the release itself are jobs.ts and shared/release/.
 */

/** Whose jobs: the person, through an app or at a printer. */
export interface JobOwnerIds {
  readonly tenantId: string;
  readonly userId: string;
}

/** Where a client uploads the document: a Graph upload session in the user's Print folder. */
export interface UploadTarget {
  readonly url: string;
  readonly expiresAt: string;
}

/** How long a client waits before asking again when the printer could not be reached. */
const PRINTER_UNREACHABLE_RETRY_SECONDS = 10;
/** When a job went out but the store could not record it: the store's own hiccup, soon over. */
const UNRECORDED_RETRY_SECONDS = 1;

/**
 * Registers a job. With the user's OneDrive connected, the answer carries an upload session in
 * the Print folder, made first: if OneDrive fails, no job is left behind. Without OneDrive the
 * job is metadata only.
 */
export async function submitJob(
  services: Services,
  owner: JobOwnerIds,
  request: JobRequest,
  log: Logger,
): Promise<{ job: JobDoc; upload?: UploadTarget }> {
  const [account, found] = await Promise.all([accountOf(services, owner), readLink(services.store, owner.tenantId, owner.userId)]);
  const link = found && connectedLink(found);
  if (link && !isOneDriveName(request.fileName)) {
    throw new Invalid('OneDrive does not accept this file name', {
      errors: [{ pointer: '/body/fileName', detail: 'is blank, "." or "..", or longer than OneDrive allows' }],
    });
  }
  const session = link
    ? await (
        await services.onedrive()
      )
        .driveOf(services, link, log)
        .then((drive) => drive.createUploadSession(link.printFolderId, request.fileName, 'rename'))
    : undefined;
  const job = await register(services, account, request, session ? { upload: true } : undefined);
  return { job, ...(session ? { upload: { url: session.uploadUrl, expiresAt: session.expiresAt } } : {}) };
}

/**
 * The client says the document is uploaded: the job joins the queue. A OneDrive job names the
 * uploaded item, which must be the file registered (in the Print folder, same size, the same
 * name or OneDrive's rename of it) — so a job cannot be pointed at another file of the drive.
 * Without the item's id (the last range's answer was lost on its way to the client, and the
 * session closed with it), the Print folder is searched for that file instead (findUpload).
 */
export async function confirmUpload(
  services: Services,
  owner: JobOwnerIds,
  jobId: string,
  itemId: string | undefined,
  log: Logger,
): Promise<JobDoc> {
  const { store, now } = services;
  const job = await requireJob(store, owner.tenantId, owner.userId, jobId, now());
  assertTransition(job, 'ready');
  if (!job.onedrive) return transitionJob(store, job, 'ready', now());
  const link = await requireConnectedLink(store, job.tenantId, job.userId);
  const item = itemId ? await printFolderFile(services, link, itemId, log) : await findUpload(services, link, job, log);
  if (item.size !== job.size || !isNameOfUpload(item.name, job.fileName)) {
    throw new Conflict('the file in OneDrive does not match the job (size or name differ)', { size: item.size });
  }
  return transitionJob(store, job, 'ready', now(), { onedrive: { itemId: item.id } });
}

/**
 * At the printer, a file of the Print folder printed at once: a job (queued, its file already
 * there) released to this session's printer. If the release fails the job stays queued, and the
 * answer names it so the client can release that job rather than print the file again.
 */
export async function printFromOneDrive(
  services: Services,
  session: ReleaseTarget,
  itemId: string,
  options: Partial<JobOptions> | undefined,
  log: Logger,
): Promise<JobDoc> {
  // In a region without OneDrive: 503 onedrive-not-configured before anything else is looked at.
  await services.onedrive();
  const [account, link] = await Promise.all([
    accountOf(services, session),
    requireConnectedLink(services.store, session.tenantId, session.userId),
  ]);
  const item = await printFolderFile(services, link, itemId, log);
  const job = await register(
    services,
    account,
    { fileName: item.name, size: item.size, ...(options ? { options } : {}) },
    { itemId: item.id },
  );
  return releaseOne(services, session, job, log, account.user);
}

/**
 * One of the owner's queued jobs (or one that failed at a printer), released to the printer of this session. The owner is read
 * beside the job (one more point read, no more waiting): a session token outlives a deactivation
 * by up to its lifetime, and no job of a deactivated user goes out (activation.ts).
 */
export async function releaseJob(services: Services, session: ReleaseTarget, jobId: string, log: Logger): Promise<JobDoc> {
  const [job, owner] = await Promise.all([
    requireJob(services.store, session.tenantId, session.userId, jobId, services.now()),
    ownerNow(services, session),
  ]);
  return releaseOne(services, session, job, log, owner);
}

/**
 * Cancels one of the owner's jobs that has not been released, or that failed at the printer. Its
 * OneDrive file follows the tenant's `afterPrint` (docs/flows.md#after-printing): marked pending
 * with the cancellation, then done (finishJob).
 */
export async function cancelJob(services: Services, owner: JobOwnerIds, jobId: string, log: Logger): Promise<JobDoc> {
  const { store, now } = services;
  const [job, policy] = await Promise.all([
    requireJob(store, owner.tenantId, owner.userId, jobId, now()),
    policyOf(services, owner.tenantId),
  ]);
  const time = now();
  const cancelled = await transitionJob(store, job, 'cancel', time, pendingCleanup(policy, job, time));
  return finishJob(services, cancelled, log);
}

/** The printer a job was released to, reporting with its own device token for the job's owner (the release message's `user.id`). */
export interface ReportingPrinter {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly userId: string;
}

/**
 * The printer a job was released to reports it printed, or failed with a reason; no other
 * printer may (409 from another printer's session). A failed job waits for its owner to release
 * it again (docs/flows.md#release-to-printers).
 */
export async function reportPrinted(
  services: Services,
  session: ReleaseTarget,
  jobId: string,
  report: PrintReport,
  log: Logger,
): Promise<JobDoc> {
  const { store, now } = services;
  const [job, policy] = await Promise.all([
    requireJob(store, session.tenantId, session.userId, jobId, now()),
    policyOf(services, session.tenantId),
  ]);
  if (job.state === 'released' && job.releasedTo !== session.deviceId) throw new Conflict('this job was released to another printer');
  return recordReport(services, job, policy, report, log);
}

/**
 * The same report with the printer's device token, once the session that released the job has
 * ended (a long job, a paper jam; docs/flows.md#what-was-printed). Only for a job released to
 * this very printer, still connected (read now: its token outlives a disconnection by up to 20
 * minutes); any other job of the user is "no such job", so a printer learns nothing of jobs
 * sent elsewhere.
 */
export async function reportPrintedByPrinter(
  services: Services,
  printer: ReportingPrinter,
  jobId: string,
  report: PrintReport,
  log: Logger,
): Promise<JobDoc> {
  const { store, now } = services;
  const [device, job, policy] = await Promise.all([
    readDevice(store, printer.tenantId, printer.deviceId),
    readJob(store, printer.tenantId, printer.userId, jobId, now()),
    policyOf(services, printer.tenantId),
  ]);
  if (!device || device.status !== 'connected') throw new Forbidden('this printer is disconnected; enroll it again');
  if (!job || job.releasedTo !== printer.deviceId) throw new NotFound('no such job');
  return recordReport(services, job, policy, report, log);
}

/**
 * A report, written: failed (the job can be released again), or printed. Printed is final: its
 * write carries the figures, checked against what the printer was sent and marked for the usage
 * aggregates, and the file's clean-up, marked pending; finishJob then does both
 * (docs/flows.md#after-printing).
 */
async function recordReport(services: Services, job: JobDoc, policy: TenantPolicy, report: PrintReport, log: Logger): Promise<JobDoc> {
  const time = services.now();
  if ('failed' in report) {
    const failed = { failedReason: report.failed, failedAt: time.toISOString(), failures: (job.failures ?? 0) + 1 };
    return transitionJob(services.store, job, 'failed', time, failed);
  }
  // The state first: a repeated report of a printed job is 409, whatever its figures.
  assertTransition(job, 'printed');
  if (report.printed) checkPrintedCounts(report.printed, job);
  const printed = await transitionJob(services.store, job, 'printed', time, {
    printedAt: time.toISOString(),
    // Counted in the usage aggregates either way: a report without figures (an older agent) is a job of 0 pages.
    usagePending: true as const,
    ...(report.printed ? { printed: report.printed } : {}),
    ...pendingCleanup(policy, job, time),
  });
  return finishJob(services, printed, log);
}

/** The tenant's policy (cached a minute): what follows a job's last state. 403 once the tenant is gone. */
async function policyOf(services: Services, tenantId: string): Promise<TenantPolicy> {
  const tenant = await readTenant(services.store, tenantId);
  if (!tenant) throw new Forbidden('this account no longer exists');
  return tenant.policy;
}

/**
 * The one job the caller asked for, released: or why not, with the job still queued (or failed).
 * `owner`, read in this request, gives the role for print rights without another read.
 */
async function releaseOne(services: Services, session: ReleaseTarget, job: JobDoc, log: Logger, owner: ReleaseOwner): Promise<JobDoc> {
  assertTransition(job, 'release'); // before sending: a job that is not queued or failed must not go out
  const { outcome, releasedJobs, heldBack, unrecorded } = await releaseJobs(services, session, [job], log, owner);
  const released = releasedJobs[0];
  if (released) return released;
  if (heldBack) throw heldBack;
  const queued = { jobId: job.id, state: job.state };
  if (!outcome.dispatched)
    throw new Unavailable(PRINTER_UNREACHABLE_RETRY_SECONDS, `the printer could not be reached; the job stays ${job.state}`, queued);
  // Sent but not recorded (the store failed): a release of this job in the same session is
  // safe, its message is dropped as a duplicate; printing the file again would print it twice.
  if (unrecorded)
    throw new Unavailable(UNRECORDED_RETRY_SECONDS, 'the job went to the printer but could not be recorded; release it again', queued);
  // Another release (a session approved elsewhere) took the job meanwhile: name it, so that a
  // client printing from OneDrive reads that job instead of printing the file again.
  throw new Conflict('the job changed while it was released; read it again', { jobId: job.id });
}

/**
 * Who a job is registered for: 403 once the account (or its tenant) is gone, 401 while it is
 * deactivated (as currentUser answers), though its token still verifies.
 */
async function accountOf(services: Services, owner: JobOwnerIds) {
  const [tenant, user] = await Promise.all([readTenant(services.store, owner.tenantId), ownerNow(services, owner)]);
  if (!tenant) throw new Forbidden('this account no longer exists');
  return { tenant, user };
}

async function ownerNow({ store }: Services, owner: JobOwnerIds) {
  const user = await readUser(store, owner.tenantId, owner.userId);
  if (!user) throw new Forbidden('this account no longer exists');
  return requireActive(user);
}

function register(
  services: Services,
  { tenant, user }: Awaited<ReturnType<typeof accountOf>>,
  request: JobRequest,
  onedrive: { upload: true } | { itemId: string } | undefined,
): Promise<JobDoc> {
  const owner = { tenantId: tenant.id, userId: user.id, email: user.email, username: user.username };
  return registerJob(services, owner, jobRetentionHours(tenant.policy), request, onedrive);
}

/** Graph's clock and ours may differ by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Pages of the Print folder read at most when looking for an upload by name (200 items each). */
const FIND_PAGES = 10;

/**
 * The upload of `job` found by what is known of it: the newest file of the Print folder with the
 * registered name (or OneDrive's rename of it, "report 1.pdf") and size, written since the job
 * was registered. 404 when there is none: the upload did not finish, and the client starts over.
 */
async function findUpload(services: Services, link: OneDriveLinkDoc, job: JobDoc, log: Logger): Promise<DriveItemInfo> {
  const drive = await (await services.onedrive()).driveOf(services, link, log);
  const since = Date.parse(job.createdAt) - CLOCK_SKEW_MS;
  // Newer first; within the same second (Graph's times have no more), OneDrive's higher rename
  // number ("report 2.pdf" after "report 1.pdf") was given later.
  const rename = (name: string) =>
    name.normalize('NFC').toLowerCase() === job.fileName.normalize('NFC').toLowerCase()
      ? 0
      : Number(/ (\d+)(\.[^.]*)?$/.exec(name)?.[1] ?? 0);
  const newer = (a: DriveItemInfo, b: DriveItemInfo) => {
    const [at, bt] = [Date.parse(a.lastModifiedAt ?? ''), Date.parse(b.lastModifiedAt ?? '')];
    return at !== bt ? at > bt : rename(a.name) > rename(b.name);
  };
  let found: DriveItemInfo | undefined;
  let skipToken: string | undefined;
  for (let page = 0; page < FIND_PAGES; page++) {
    const { items, skipToken: next } = await drive.children(link.printFolderId, { limit: 200, ...(skipToken ? { skipToken } : {}) });
    for (const item of items) {
      const written = Date.parse(item.lastModifiedAt ?? '');
      if (!item.isFile || item.size !== job.size || !isNameOfUpload(item.name, job.fileName) || !(written >= since)) continue;
      if (!found || newer(item, found)) found = item;
    }
    if (!next) break;
    skipToken = next;
  }
  if (!found) throw new NotFound('the upload did not finish: no such file in your OneDrive Print folder');
  return found;
}

/**
 * The file `itemId` of the user's Print folder, the only files Roger prints. Anything else —
 * gone, a folder, a file elsewhere in the drive — is "no such file" (404), alike whether it
 * exists elsewhere or not, so nothing about the rest of the drive is revealed. One check for
 * confirming an upload and for printing from the folder.
 */
async function printFolderFile(services: Services, link: OneDriveLinkDoc, itemId: string, log: Logger): Promise<DriveItemInfo> {
  const drive = await (await services.onedrive()).driveOf(services, link, log);
  const item = await drive.item(itemId);
  if (!item || !item.isFile || item.parentId !== link.printFolderId) throw new NotFound('no such file in your OneDrive Print folder');
  return item;
}

import { ApiError, isTransient } from '@roger-cloud/client-kit/http';
import type { Session } from '../credentials.js';
import { cancelUpload, fragmentBytesFromEnv, isRetryableUpload, nextExpectedByte, sendRest, UploadGone } from './graph-upload.js';
import { Patience, retrySecondsFromEnv } from './patience.js';
import { pendingUpload, rememberUpload, type PendingUpload } from './pending-uploads.js';
import { fileNameProblem, MAX_DOCUMENT_BYTES } from './printable.js';

/**
 * Printing one document (docs/clients.md#printing): register the job, upload the bytes straight
 * to the user's OneDrive through the upload session the API returns (never through Roger),
 * resuming where an interrupted upload stopped, then mark the job ready. Used by `roger print`
 * and by the IPP printer (`roger printer`).
 */
export interface PrintOptions {
  readonly copies?: number;
  readonly duplex?: boolean;
  readonly color?: boolean;
  readonly paperSize?: 'A4' | 'A3' | 'A5' | 'Letter' | 'Legal';
}

/** A document to print: its name as shown on the panel, its size, and its bytes by range. */
export interface DocumentSource {
  readonly fileName: string;
  readonly size: number;
  /** Bytes [start, end) of the document. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** Identifies the same document across runs (path, size and modification time) so an upload can resume. */
  readonly resumeKey?: string;
}

export interface PrintedJob {
  readonly id: string;
  readonly state: string;
}

/**
 * The user's OneDrive is not connected, or no longer lets Roger in, so the document has nowhere
 * to go (no job is left for it). Connecting is the web app's: it takes a browser sign-in at Microsoft.
 */
export class OneDriveNotConnected extends Error {
  constructor(
    readonly settingsUrl: string,
    why = 'your OneDrive is not connected, so there is nowhere to upload to',
  ) {
    super(`${why}: connect it in the Roger web app's Settings (${settingsUrl}), then print again`);
    this.name = 'OneDriveNotConnected';
  }
}

interface RegisteredJob extends PrintedJob {
  readonly upload?: { readonly url: string; readonly expiresAt: string };
}

/**
 * Prints `document`: on to the queue, or an error. While the API or OneDrive is away it keeps
 * trying for a bounded time (ROGER_RETRY_FOR_SECONDS, two minutes) and then throws GaveUp; a
 * document with a resume key can then be resumed by calling this again (the next `roger print`
 * of the same file). `progress` hears how many bytes OneDrive has, after each range.
 */
export async function submitDocument(
  session: Session,
  document: DocumentSource,
  options: PrintOptions,
  progress?: (sentBytes: number, totalBytes: number) => void,
): Promise<PrintedJob> {
  if (document.size < 1) throw new Error(`${document.fileName}: the document is empty`);
  if (document.size > MAX_DOCUMENT_BYTES) throw new Error(`${document.fileName}: more than a print job may have (2 GiB)`);
  const nameProblem = fileNameProblem(document.fileName);
  if (nameProblem) throw new Error(`${document.fileName}: ${nameProblem}`);
  const printing: Printing = {
    session,
    document,
    progress,
    patience: new Patience(retrySecondsFromEnv(), (error) => isTransient(error) || isRetryableUpload(error)),
    fragmentBytes: fragmentBytesFromEnv(),
  };
  const asked = apiOptions(options);
  const key = document.resumeKey;
  const earlier = key ? await pendingUpload(key) : undefined;
  if (earlier) {
    const resumed = await resume(printing, earlier, asked);
    if (resumed) return resumed;
  }
  for (let attempt = 1; ; attempt++) {
    const pending = await register(printing, asked);
    try {
      return await complete(printing, pending, 0);
    } catch (error) {
      // The session ended before the last byte (it expired, or OneDrive dropped it): once more from the start.
      if (!(error instanceof UploadGone) || attempt > 1) throw error;
      await abandon(printing, pending);
    }
  }
}

/** One document on its way, and what it is sent with. */
interface Printing {
  readonly session: Session;
  readonly document: DocumentSource;
  readonly progress: ((sentBytes: number, totalBytes: number) => void) | undefined;
  readonly patience: Patience;
  readonly fragmentBytes: number;
}

/** A new job and its upload session; remembered at once, so an interruption from here on can resume. */
async function register({ session, document, patience }: Printing, options: Record<string, unknown>): Promise<PendingUpload> {
  let job: RegisteredJob;
  try {
    job = await patience.run(() =>
      session.call<RegisteredJob>('/api/jobs', { json: { fileName: document.fileName, size: document.size, options } }),
    );
  } catch (error) {
    // The consent was withdrawn at Microsoft, or the link was removed: the API's problem types say which.
    const type = error instanceof ApiError && error.status === 409 ? String(error.problem.type ?? '') : '';
    if (type.endsWith('onedrive-reconnect-required')) {
      throw new OneDriveNotConnected(`${session.apiUrl}/app/settings`, 'OneDrive no longer lets Roger in for you');
    }
    if (type.endsWith('onedrive-not-connected')) throw new OneDriveNotConnected(`${session.apiUrl}/app/settings`);
    throw error;
  }
  if (!job.upload) {
    // Metadata only would reach the printer without a document: not a print job.
    await session.call(jobPath(job.id), { method: 'DELETE' }).catch(() => undefined);
    throw new OneDriveNotConnected(`${session.apiUrl}/app/settings`);
  }
  const pending: PendingUpload = {
    apiUrl: session.apiUrl,
    jobId: job.id,
    uploadUrl: job.upload.url,
    expiresAt: job.upload.expiresAt,
    options,
  };
  if (document.resumeKey) await rememberUpload(document.resumeKey, pending);
  return pending;
}

/**
 * Goes on with an upload an earlier run left: from where the session expects the next byte, or
 * straight to ready when the bytes are all in. Undefined when it cannot be resumed (expired,
 * cancelled, another account's, or asked now with other options): that job is cancelled, and
 * the caller starts over.
 */
async function resume(printing: Printing, earlier: PendingUpload, options: Record<string, unknown>): Promise<PrintedJob | undefined> {
  const { session, patience } = printing;
  if (earlier.apiUrl !== session.apiUrl) {
    await forget(printing);
    return undefined;
  }
  // What prints is what was asked this time.
  const sameOptions = JSON.stringify(earlier.options ?? {}) === JSON.stringify(options);
  if (!sameOptions || Date.parse(earlier.expiresAt) <= Date.now()) return void (await abandon(printing, earlier));
  try {
    if (earlier.itemId) return await ready(printing, earlier, earlier.itemId);
    let from: number;
    try {
      from = await patience.run(() => nextExpectedByte(earlier.uploadUrl));
    } catch (error) {
      if (!(error instanceof UploadGone)) throw error;
      // The session closes when its last byte makes the file: perhaps only the answer to that was lost.
      return await ready(printing, earlier, undefined);
    }
    return await complete(printing, earlier, from);
  } catch (error) {
    if (!(error instanceof UploadGone) && !isGone(error)) throw error;
    await abandon(printing, earlier);
    return undefined;
  }
}

/** Sends the bytes from `from` on, then marks the job ready. */
async function complete(printing: Printing, pending: PendingUpload, from: number): Promise<PrintedJob> {
  const { document, patience, fragmentBytes, progress } = printing;
  const { itemId } = await sendRest(pending.uploadUrl, document, from, patience, fragmentBytes, progress);
  // All bytes are in: if ready fails now, the next run goes straight to it.
  if (itemId && document.resumeKey) await rememberUpload(document.resumeKey, { ...pending, itemId });
  return ready(printing, pending, itemId);
}

/**
 * POST /api/jobs/{id}/ready with the drive item the upload made; without it (its answer was
 * lost) the API looks for the file in the Print folder itself. A 409 after a try whose answer
 * was lost may mean that try went through: the job's state says.
 */
async function ready({ session, patience, document }: Printing, pending: PendingUpload, itemId: string | undefined): Promise<PrintedJob> {
  let job: PrintedJob;
  try {
    job = await patience.run(() =>
      session.call<PrintedJob>(`${jobPath(pending.jobId)}/ready`, { method: 'POST', json: itemId ? { itemId } : {} }),
    );
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) throw error;
    const now = await patience.run(() => session.call<PrintedJob>(jobPath(pending.jobId)));
    if (now.state === 'registered' || now.state === 'cancelled') throw error;
    job = now;
  }
  if (document.resumeKey) await rememberUpload(document.resumeKey, undefined);
  return { id: job.id, state: job.state };
}

/** An upload that cannot go on: its session and its job are cancelled (best effort), and it is forgotten. */
async function abandon(printing: Printing, pending: PendingUpload): Promise<void> {
  await cancelUpload(pending.uploadUrl);
  await printing.session.call(jobPath(pending.jobId), { method: 'DELETE' }).catch(() => undefined);
  await forget(printing);
}

async function forget({ document }: Printing): Promise<void> {
  if (document.resumeKey) await rememberUpload(document.resumeKey, undefined);
}

/** The job or its file is no more, or no longer waits for its document (cancelled, or ready already with another file). */
const isGone = (error: unknown) => error instanceof ApiError && (error.status === 404 || error.status === 409);

const jobPath = (id: string) => `/api/jobs/${encodeURIComponent(id)}`;

/** The API's job options: only those given, so the API's defaults stand for the rest. */
function apiOptions(options: PrintOptions): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({ copies: options.copies, duplex: options.duplex, color: options.color, paperSize: options.paperSize }).filter(
      ([, value]) => value !== undefined,
    ),
  );
}

import type { Patience } from './patience.js';
import type { DocumentSource } from './submit.js';

/**
 * Microsoft Graph's resumable upload (an upload session, "Upload large files with an upload
 * session" in the Graph docs), client side, as `roger print` uses it (docs/clients.md#printing):
 * the bytes go in ranges with Content-Range straight to the session's URL, which is the
 * credential (an Authorization header is refused); `GET` on the URL says which bytes it still
 * expects (`nextExpectedRanges`), so an upload that stopped goes on where it stopped. The URL is
 * never printed or logged: it grants writing to the user's OneDrive.
 */

/** Graph wants every range but the last to be a multiple of 320 KiB. */
export const FRAGMENT_UNIT = 320 * 1024;
/** 5 MiB: within Graph's advice (at most 60 MiB, a few MiB for unsteady networks). */
export const DEFAULT_FRAGMENT_BYTES = 16 * FRAGMENT_UNIT;
/** Longer than a range needs on a slow line; then the connection counts as lost. */
const RANGE_TIMEOUT_MS = 5 * 60_000;

/** The session is no more (404): expired, cancelled, or closed because its file was made. */
export class UploadGone extends Error {
  constructor() {
    super('the upload session has ended');
    this.name = 'UploadGone';
  }
}

/** No answer came: it is unknown whether the range went in. */
export class ConnectionLost extends Error {
  constructor(cause: unknown) {
    super(`cannot reach OneDrive: ${detail(cause)}`, { cause });
    this.name = 'ConnectionLost';
  }
}

/** OneDrive is busy or away for a moment (429 or 5xx); the range was not taken in. */
export class OneDriveBusy extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterSeconds: number | undefined,
    message: string,
  ) {
    super(`OneDrive is busy: ${message} (HTTP ${status})`);
    this.name = 'OneDriveBusy';
  }
}

/** Any other answer Graph gives an upload: not worth repeating. */
export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`OneDrive refused the upload: ${message} (HTTP ${status})`);
    this.name = 'UploadRefused';
  }
}

/** A range that does not start where the session expects (416): ask the session where it is. */
class OutOfStep extends Error {}

export const isRetryableUpload = (error: unknown) => error instanceof ConnectionLost || error instanceof OneDriveBusy;

/** The fragment size from ROGER_UPLOAD_FRAGMENT_KIB (a multiple of 320), else 5 MiB. */
export function fragmentBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.ROGER_UPLOAD_FRAGMENT_KIB;
  if (value === undefined || value === '') return DEFAULT_FRAGMENT_BYTES;
  const bytes = Number(value) * 1024;
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes % FRAGMENT_UNIT !== 0 || bytes > 60 * 1024 * 1024 - FRAGMENT_UNIT) {
    throw new Error(`ROGER_UPLOAD_FRAGMENT_KIB: a multiple of 320 below 61440, not ${value}`);
  }
  return bytes;
}

/** Where the session expects the next byte (the first of `nextExpectedRanges`). */
export async function nextExpectedByte(uploadUrl: string): Promise<number> {
  const response = await send(uploadUrl, { method: 'GET' });
  const body = (await answerOf(response)) as { nextExpectedRanges?: string[] };
  return firstExpected(body.nextExpectedRanges) ?? 0;
}

/** Cancels the session (best effort: an expired one is gone already). */
export async function cancelUpload(uploadUrl: string): Promise<void> {
  await send(uploadUrl, { method: 'DELETE' }).catch(() => undefined);
}

export interface Sent {
  /** The drive item the last range made; undefined when its answer was lost on the way back. */
  readonly itemId: string | undefined;
}

/**
 * Sends the document from byte `from` to its end, range by range, retrying with `patience`
 * while OneDrive is away. A lost connection leaves it unknown whether its range went in, so the
 * session is asked where it stands; on the last range a session that has ended means the file
 * was made and only the answer was lost. UploadGone otherwise: the session must start over.
 */
export async function sendRest(
  uploadUrl: string,
  document: DocumentSource,
  from: number,
  patience: Patience,
  fragmentBytes: number,
  progress?: (sentBytes: number, totalBytes: number) => void,
): Promise<Sent> {
  const total = document.size;
  let next = from;
  progress?.(next, total);
  for (;;) {
    const end = Math.min(next + fragmentBytes, total);
    try {
      const answer = await putRange(uploadUrl, await document.read(next, end), next, total);
      patience.succeeded();
      if (answer.itemId !== undefined) {
        progress?.(total, total);
        return { itemId: answer.itemId };
      }
      next = answer.nextByte ?? end;
      progress?.(next, total);
      continue;
    } catch (error) {
      if (error instanceof OutOfStep) {
        next = await patience.run(() => nextExpectedByte(uploadUrl), { progress: false });
        continue;
      }
      if (!isRetryableUpload(error)) throw error;
      if (!(error instanceof ConnectionLost)) {
        await patience.pause(error);
        continue;
      }
      let expected: number;
      try {
        // The status answering is no progress of the upload: the streak of failures goes on.
        expected = await patience.run(() => nextExpectedByte(uploadUrl), { progress: false });
      } catch (asked) {
        if (asked instanceof UploadGone && end === total) return { itemId: undefined };
        throw asked;
      }
      // The range went in and only its answer was lost: no reason to wait.
      if (expected <= next) await patience.pause(error);
      next = expected;
    }
  }
}

/** One range: `{nextByte}` while more is expected, `{itemId}` once the file is made. */
async function putRange(
  uploadUrl: string,
  bytes: Uint8Array,
  start: number,
  total: number,
): Promise<{ itemId?: string | undefined; nextByte?: number | undefined }> {
  const response = await send(uploadUrl, {
    method: 'PUT',
    headers: { 'content-range': `bytes ${start}-${start + bytes.length - 1}/${total}` },
    body: bytes,
  });
  if (response.status === 416) {
    await response.body?.cancel();
    throw new OutOfStep();
  }
  const body = (await answerOf(response)) as { id?: string; nextExpectedRanges?: string[] };
  if (response.status === 200 || response.status === 201) return { itemId: typeof body.id === 'string' ? body.id : undefined };
  return { nextByte: firstExpected(body.nextExpectedRanges) };
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    // No Authorization header: the URL is the credential, and Graph refuses one here.
    return await fetch(url, { ...init, signal: AbortSignal.timeout(RANGE_TIMEOUT_MS) });
  } catch (error) {
    throw new ConnectionLost(error);
  }
}

/** The JSON of a 2xx answer, or the error it stands for. */
async function answerOf(response: Response): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ConnectionLost(error);
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = {};
  }
  if (response.ok) return body;
  const message = (body as { error?: { message?: string } }).error?.message ?? response.statusText;
  if (response.status === 404) throw new UploadGone();
  if (response.status === 429 || response.status >= 500) {
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new OneDriveBusy(response.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined, message);
  }
  throw new UploadRefused(response.status, message);
}

/** The start of the first of Graph's `"start-end"` / `"start-"` ranges. */
function firstExpected(ranges: string[] | undefined): number | undefined {
  const match = /^(\d+)-/.exec(ranges?.[0] ?? '');
  return match ? Number(match[1]) : undefined;
}

function detail(cause: unknown): string {
  const error = cause as Error & { cause?: { code?: string; message?: string } };
  if (error?.name === 'TimeoutError') return 'no answer in time';
  return error?.cause?.code ?? error?.cause?.message ?? error?.message ?? String(cause);
}
